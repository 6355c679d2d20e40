"""prsg_widgets — explain how an image generator builds its picture, as a sum of primitive
regional patterns (feature components = OR Harsanyi interactions), with Jupyter widgets.

The names below are imported on first use, so ``import prsg_widgets`` (and ``prsg --help``) does
not load torch until something that needs it is touched.  ``prsg_widgets.sweep`` is the sweep
package; it is callable: ``prsg_widgets.sweep(...)`` runs a study on a Dask cluster (Dask itself
is imported only when a sweep runs).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

# ruff: noqa: F401  (the imports below are the package's public names: __all__ is made from them)
from . import _front_door
from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover - the public names, imported on first use (_front_door.attach reads them)
    from .backend import Component, Explainer, Explanation, Sample
    from .backend.settings import Settings
    from .core import PRESETS, PatchGrid, SolverConfig
    from .core.errors import CacheFileError, LayerNotFoundError, PatchError, SettingsError
    from .models import MODELS, load_generator, register_model, split_generator


def explore(*args, **kwargs):
    """The dashboard of all four widgets on a model (see :func:`prsg_widgets.widgets.explore`)."""
    from .widgets import explore as _explore  # widgets import ipywidgets; keep the core light

    return _explore(*args, **kwargs)


__getattr__, __dir__, __all__ = _front_door.attach(__name__, __file__, also=["explore", "sweep", "__version__"])
