"""Generators: the generic split of any ``torch.nn.Module`` and the built-in models."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core.errors import NameNotFoundError, SettingsError
from ..core.validate import check_layer_name
from .builtin import (
    EYE_CLASSES,
    WeightsFileDamaged,
    WeightsPackageMissing,
    load_dcgan_faces,
    load_eyes_128,
    load_weights,
    weights_file,
)
from .split import LayerNotFoundError, SplitGenerator, layer_names, split_generator


class UnknownModelError(NameNotFoundError, SettingsError):
    """A model name that is not built in: a ``KeyError`` (and, for older callers, a
    ``ValueError``: a :class:`~prsg_widgets.core.errors.SettingsError`) whose message lists the
    built-in names.
    """


@dataclass(frozen=True)
class ModelInfo:
    """A built-in model: its loader, default (middle) layer and cheaper layer for quick CPU runs."""

    name: str
    loader: Callable[..., SplitGenerator]
    default_layer: str
    cheap_layer: str
    description: str


def _load_toy(layer: str | None = None, device=None, **kw) -> SplitGenerator:
    from .toy_scenes import load_toy_scenes  # trains on first use; import lazily

    return load_toy_scenes(layer=layer, device=device, **kw)


def _load_planted(layer: str | None = None, device=None, **kw) -> SplitGenerator:
    from .planted import load_planted

    return load_planted(layer=layer, device=device, **kw)


def _biggan_loader(name: str) -> Callable[..., SplitGenerator]:
    def load(layer: str | None = None, device=None, **kw) -> SplitGenerator:
        from .biggan import load_biggan  # needs pytorch-pretrained-biggan; import lazily

        return load_biggan(name, layer=layer, device=device, **kw)

    return load


def _toy_layers() -> tuple[str, str]:
    from . import toy_scenes

    return toy_scenes.DEFAULT_LAYER, toy_scenes.CHEAP_LAYER


MODELS: dict[str, ModelInfo] = {
    "dcgan-faces": ModelInfo("dcgan-faces", load_dcgan_faces, "main.5", "main.8",
                             "64×64 DCGAN faces (DigiFace-1M), weights from PyPI 'gan-face-generate'"),
    "eyes-128": ModelInfo("eyes-128", load_eyes_128, "main.9", "main.12",
                          "class-conditional 128×128 painted eyes, weights from PyPI 'omniart-eye-generator'"),
    "toy-scenes": ModelInfo("toy-scenes", _load_toy, *_toy_layers(),
                            "32×32 synthetic scenes of three coloured shapes, trained locally; "
                            "knows its true object masks"),
    "toy-planted": ModelInfo("toy-planted", _load_planted, "main.0", "main.0",
                             "48×48 scenes of patch-aligned objects whose exact OR components are known "
                             "(prsg_widgets.models.planted): a ground truth for the solver"),
    **{f"biggan-deep-{r}": ModelInfo(f"biggan-deep-{r}", _biggan_loader(f"biggan-deep-{r}"),
                                     "generator.layers.4", "generator.layers.6",
                                     f"class-conditional {r}×{r} BigGAN-deep (ImageNet); "
                                     "PyPI 'pytorch-pretrained-biggan' (extra [biggan]); "
                                     "local weights=PATH or weights='random'")
       for r in (128, 256, 512)},
}


def model_info(name: str) -> ModelInfo:
    """The :class:`ModelInfo` of the built-in model ``name``; an :class:`UnknownModelError`
    listing the built-in names otherwise.
    """
    if not isinstance(name, str) or name not in MODELS:
        import difflib

        close = difflib.get_close_matches(name, list(MODELS), n=2) if isinstance(name, str) else []
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise UnknownModelError(f"unknown model {name!r}; {hint}built-in models: {', '.join(MODELS)}")
    return MODELS[name]


def load_generator(name: str, layer: str | None = None, device=None, cheap: bool = False,
                   **kwargs) -> SplitGenerator:
    """Load a built-in model, split at ``layer`` (default: its middle layer; ``cheap=True``: its
    cheaper layer for quick CPU runs).  Names: ``"dcgan-faces"``, ``"eyes-128"``, ``"toy-scenes"``,
    ``"biggan-deep-128"`` / ``-256`` / ``-512`` (``weights=PATH`` or ``"random"``, see
    :func:`prsg_widgets.models.biggan.load_biggan`).

    An unknown ``name`` is an :class:`UnknownModelError` (a ``KeyError``) listing the names; an
    empty ``layer`` a ``ValueError`` (it never means the default); an unknown layer a
    :class:`LayerNotFoundError` (a ``KeyError``) listing close matches and the valid layers.
    """
    info = model_info(name)
    if layer is None:
        layer = info.cheap_layer if cheap else info.default_layer
    elif not isinstance(layer, str) or not layer.strip():
        check_layer_name(layer, [info.default_layer, info.cheap_layer])  # raises: empty or not a name
    return info.loader(layer=layer, device=device, **kwargs)


__all__ = [
    "EYE_CLASSES", "LayerNotFoundError", "MODELS", "ModelInfo", "model_info", "SplitGenerator", "UnknownModelError",
    "WeightsFileDamaged", "WeightsPackageMissing", "layer_names", "load_generator", "load_weights",
    "split_generator", "weights_file",
]
