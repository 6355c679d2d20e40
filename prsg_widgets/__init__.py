"""prsg_widgets — explain how an image generator builds its picture, as a sum of primitive
regional patterns (feature components = OR Harsanyi interactions), with Jupyter widgets."""
from .backend import Component, Explainer, Explanation, Sample
from .core import PRESETS, PatchGrid, SolverConfig
from .models import MODELS, load_generator, split_generator

from ._version import __version__


def explore(*args, **kwargs):
    """The dashboard of all four widgets on a built-in model (see :func:`prsg_widgets.widgets.explore`)."""
    from .widgets import explore as _explore  # widgets import ipywidgets; keep the core light

    return _explore(*args, **kwargs)


def __getattr__(name: str):
    """``prsg_widgets.sweep``, imported on first use (the package is callable: ``prsg_widgets.sweep(...)``
    runs a study on a Dask cluster; Dask itself is imported only when a sweep runs)."""
    if name == "sweep":
        import importlib

        return importlib.import_module(".sweep", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Component", "Explainer", "Explanation", "MODELS", "PRESETS", "PatchGrid", "Sample",
    "SolverConfig", "explore", "sweep", "load_generator", "split_generator", "__version__",
]
