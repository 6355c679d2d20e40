"""prsg_widgets — explain how an image generator builds its picture, as a sum of primitive
regional patterns (feature components = OR Harsanyi interactions), with Jupyter widgets."""
from .backend import Component, Explainer, Explanation, Sample
from .core import PRESETS, PatchGrid, SolverConfig
from .models import MODELS, load_generator, split_generator

__version__ = "0.1.0"


def explore(*args, **kwargs):
    """The dashboard of all four widgets on a built-in model (see :func:`prsg_widgets.widgets.explore`)."""
    from .widgets import explore as _explore  # widgets import ipywidgets; keep the core light

    return _explore(*args, **kwargs)


__all__ = [
    "Component", "Explainer", "Explanation", "MODELS", "PRESETS", "PatchGrid", "Sample",
    "SolverConfig", "explore", "load_generator", "split_generator", "__version__",
]
