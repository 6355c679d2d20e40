"""The models a name can load: the built-in ones, those other packages declare, and yours.

:data:`MODELS` is the one table every entry point reads — :func:`load_generator`, the
:class:`~prsg_widgets.backend.settings.Settings` check behind ``Explainer(...)``, ``explore()``,
``prsg explain --model`` and :func:`prsg_widgets.sweep` — so a model is added in one of two ways:

* :func:`register_model` in your process (a notebook, a script).  A sweep ships such models to
  its Dask workers (:func:`~prsg_widgets.models.share_models`), so the loader must be picklable: a function of an
  importable module, or one defined in the notebook itself;
* an entry point in the group ``prsg_widgets.models`` of an installed package, naming a
  :class:`ModelInfo` (``tiny = "mypkg.models:TINY"``).  Every process finds these — the command
  line and cluster workers included — the first time it looks a model up.

A name is part of what a user types and of every saved file's settings: built-in names cannot be
replaced, and registering a taken name is a :class:`ModelExistsError` unless ``replace=True``.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .._registry import Registry
from ..core.errors import NameNotFoundError, SettingsError
from ..core.validate import check_layer_name
from .builtin import load_dcgan_faces, load_eyes_128
from .split import SplitGenerator

__all__ = ["ENTRY_POINT_GROUP", "MODELS", "ModelExistsError", "ModelInfo", "ModelRegistry", "UnknownModelError",
           "load_generator", "model_info", "register_model", "unregister_model"]

ENTRY_POINT_GROUP = "prsg_widgets.models"
"""The entry-point group other packages declare their models in (each names a :class:`ModelInfo`)."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class UnknownModelError(NameNotFoundError, SettingsError):
    """A model name that is not in :data:`MODELS`: a ``KeyError`` (and, for older callers, a
    ``ValueError``: a :class:`~prsg_widgets.core.errors.SettingsError`) whose message lists the
    built-in and the registered names.
    """


class ModelExistsError(SettingsError):
    """:func:`register_model` of a name that is taken (a ``ValueError``)."""


@dataclass(frozen=True)
class ModelInfo:
    """A model by name: its loader, default (middle) layer and cheaper layer for quick CPU runs.

    ``loader(layer=..., device=..., **options)`` returns the
    :class:`~prsg_widgets.models.split.SplitGenerator` split at ``layer`` on ``device``.
    """

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


def _builtin() -> dict[str, ModelInfo]:
    infos = [
        ModelInfo("dcgan-faces", load_dcgan_faces, "main.5", "main.8",
                  "64×64 DCGAN faces (DigiFace-1M), weights from PyPI 'gan-face-generate'"),
        ModelInfo("eyes-128", load_eyes_128, "main.9", "main.12",
                  "class-conditional 128×128 painted eyes, weights from PyPI 'omniart-eye-generator'"),
        ModelInfo("toy-scenes", _load_toy, *_toy_layers(),
                  "32×32 synthetic scenes of three coloured shapes, trained locally; knows its true object masks"),
        ModelInfo("toy-planted", _load_planted, "main.0", "main.0",
                  "48×48 scenes of patch-aligned objects whose exact OR components are known "
                  "(prsg_widgets.models.planted): a ground truth for the solver"),
    ]
    infos += [ModelInfo(f"biggan-deep-{r}", _biggan_loader(f"biggan-deep-{r}"), "generator.layers.4",
                        "generator.layers.6", f"class-conditional {r}×{r} BigGAN-deep (ImageNet); "
                        "PyPI 'pytorch-pretrained-biggan' (extra [biggan]); local weights=PATH or weights='random'")
              for r in (128, 256, 512)]
    return {info.name: info for info in infos}


def _check_info(info: ModelInfo) -> ModelInfo:
    """``info`` when its fields can work; a :class:`SettingsError` naming the field otherwise."""
    if not isinstance(info, ModelInfo):
        raise SettingsError(f"a model is described by a ModelInfo, got {type(info).__name__}")
    if not isinstance(info.name, str) or not _NAME.match(info.name):
        raise SettingsError(f"model name {info.name!r}: use letters, digits, '.', '_' and '-' (e.g. 'my-gan'); "
                            "it is typed on the command line and kept in saved settings")
    if not callable(info.loader):
        raise SettingsError(f"model {info.name!r}: loader must be callable (layer=..., device=...) -> "
                            f"SplitGenerator, got {type(info.loader).__name__}")
    for what in ("default_layer", "cheap_layer"):
        check_layer_name(getattr(info, what), None, what=f"{what} of model {info.name!r}")
    if not isinstance(info.description, str):
        raise SettingsError(f"model {info.name!r}: description must be a string")
    return info


class ModelRegistry(Registry[ModelInfo]):
    """Name → :class:`ModelInfo` (a read-only mapping): the built-in models, then the entry points
    of the group :data:`ENTRY_POINT_GROUP` (read on first use), then the models given to
    :meth:`register` (see :class:`prsg_widgets._registry.Registry`).
    """

    def __init__(self, builtin: Mapping[str, ModelInfo]) -> None:
        super().__init__(builtin, kind="model", check=_check_info, unknown_error=UnknownModelError,
                         exists_error=ModelExistsError, group=ENTRY_POINT_GROUP)


MODELS = ModelRegistry(_builtin())
"""Every model a name can load (a read-only mapping; :func:`register_model` adds to it)."""


def register_model(name: str, loader: Callable[..., SplitGenerator], default_layer: str,
                   cheap_layer: str | None = None, description: str = "", *,
                   replace: bool = False) -> ModelInfo:
    """Make ``name`` a model every entry point loads: :func:`load_generator`, ``Explainer(name)``,
    ``explore(name)`` and :func:`prsg_widgets.sweep` (which ships it to its workers).

    ``loader(layer=..., device=..., **options)`` returns a
    :class:`~prsg_widgets.models.split.SplitGenerator` (build it with
    :func:`~prsg_widgets.models.split.split_generator`); ``default_layer`` is the layer used when
    none is given, ``cheap_layer`` (default: the same) the one ``cheap=True`` picks.  A name that
    is taken is a :class:`ModelExistsError` unless ``replace=True``; built-in names are never
    replaced.  For the command line and for workers of a cluster you did not start from this
    process, declare the model as an entry point instead (see ``docs/extending.md``).
    """
    info = ModelInfo(name, loader, default_layer, default_layer if cheap_layer is None else cheap_layer,
                     description)
    return MODELS.register(info, replace=replace)


def unregister_model(name: str) -> ModelInfo:
    """Remove a model :func:`register_model` added in this process; returns its :class:`ModelInfo`."""
    return MODELS.unregister(name)


def model_info(name: str) -> ModelInfo:
    """The :class:`ModelInfo` of the model ``name``; an :class:`UnknownModelError` listing the
    names otherwise.
    """
    return MODELS.get_entry(name)


def load_generator(name: str, layer: str | None = None, device=None, cheap: bool = False,
                   **kwargs) -> SplitGenerator:
    """Load the model ``name`` (see :data:`MODELS`), split at ``layer`` (default: its middle layer;
    ``cheap=True``: its cheaper layer for quick CPU runs).  Built-in names: ``"dcgan-faces"``,
    ``"eyes-128"``, ``"toy-scenes"``, ``"toy-planted"``, ``"biggan-deep-128"`` / ``-256`` /
    ``-512`` (``weights=PATH`` or ``"random"``, see :func:`prsg_widgets.models.biggan.load_biggan`);
    more with :func:`register_model`.

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
