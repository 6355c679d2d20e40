"""Generators: the generic split of any ``torch.nn.Module``, the built-in models and the registry
that names them (:func:`register_model`, entry-point group ``prsg_widgets.models``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

# ruff: noqa: F401  (the imports below are the package's public names: __all__ is made from them)
from .. import _front_door
from .builtin import (
    EYE_CLASSES,
    WeightsFileDamaged,
    WeightsPackageMissing,
    load_dcgan_faces,
    load_eyes_128,
    load_weights,
    weights_file,
)
from .registry import (
    ENTRY_POINT_GROUP,
    MODELS,
    ModelExistsError,
    ModelInfo,
    ModelRegistry,
    UnknownModelError,
    load_generator,
    model_info,
    register_model,
    unregister_model,
)
from .split import LayerNotFoundError, SplitGenerator, layer_names, split_generator

if TYPE_CHECKING:  # pragma: no cover - imported on first use: it imports distributed
    from ._dask import share_models

__getattr__, __dir__, __all__ = _front_door.attach(__name__, __file__)
