"""Generators: the generic split of any ``torch.nn.Module``, the built-in models and the registry
that names them (:func:`register_model`, entry-point group ``prsg_widgets.models``).
"""
from __future__ import annotations

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
    share_models,
    unregister_model,
)
from .split import LayerNotFoundError, SplitGenerator, layer_names, split_generator

__all__ = [
    "ENTRY_POINT_GROUP", "EYE_CLASSES", "LayerNotFoundError", "MODELS", "ModelExistsError", "ModelInfo",
    "ModelRegistry", "SplitGenerator", "UnknownModelError", "WeightsFileDamaged", "WeightsPackageMissing",
    "layer_names", "load_dcgan_faces", "load_eyes_128", "load_generator", "load_weights", "model_info",
    "register_model", "share_models", "split_generator", "unregister_model", "weights_file",
]
