"""prsg_widgets — explain how an image generator builds its picture, as a sum of primitive
regional patterns (feature components = OR Harsanyi interactions), with Jupyter widgets.

The names below are imported on first use, so ``import prsg_widgets`` (and ``prsg --help``) does
not load torch until something that needs it is touched.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover - what the lazy names are, for type checkers and readers
    from .backend import Component, Explainer, Explanation, Sample
    from .backend.settings import Settings
    from .core import PRESETS, PatchGrid, SolverConfig
    from .core.errors import CacheFileError, LayerNotFoundError, PatchError, SettingsError
    from .models import MODELS, load_generator, split_generator

_LAZY = {
    "Component": ".backend", "Explainer": ".backend", "Explanation": ".backend", "Sample": ".backend",
    "Settings": ".backend.settings",
    "PRESETS": ".core", "PatchGrid": ".core", "SolverConfig": ".core",
    "CacheFileError": ".core.errors", "LayerNotFoundError": ".core.errors", "PatchError": ".core.errors",
    "SettingsError": ".core.errors",
    "MODELS": ".models", "load_generator": ".models", "split_generator": ".models",
}

_SUBPACKAGES = ("backend", "core", "figures", "metrics", "models", "paper", "sweep", "teaching", "widgets")


def explore(*args, **kwargs):
    """The dashboard of all four widgets on a built-in model (see :func:`prsg_widgets.widgets.explore`)."""
    from .widgets import explore as _explore  # widgets import ipywidgets; keep the core light

    return _explore(*args, **kwargs)


def __getattr__(name: str) -> Any:
    """The public names, imported on first use.  ``prsg_widgets.sweep`` is the sweep package (it
    is callable: ``prsg_widgets.sweep(...)`` runs a study on a Dask cluster; Dask itself is
    imported only when a sweep runs).
    """
    if name in _SUBPACKAGES:  # ``import prsg_widgets`` then ``prsg_widgets.core.…`` keeps working
        return importlib.import_module(f".{name}", __name__)
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "CacheFileError", "Component", "Explainer", "Explanation", "LayerNotFoundError", "MODELS", "PRESETS",
    "PatchError", "PatchGrid", "Sample", "Settings", "SettingsError", "SolverConfig", "explore", "sweep",
    "load_generator", "split_generator", "__version__",
]
