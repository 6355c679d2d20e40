"""BigGAN-deep (128, 256, 512) through the PyPI package ``pytorch-pretrained-biggan`` (0.1.1).

The paper explains BigGAN-128.  Its weights cannot be fetched by this toolkit (the package's
``from_pretrained`` downloads from a bucket; nothing here touches the network): a user who has
them points :func:`load_biggan` at a local folder.  Without weights the loader says where the
official ones come from, unless random weights are asked for explicitly (``weights="random"``),
which builds the real architecture for tests, teaching and timing — the images are then noise and
the model is named ``…(random weights)`` everywhere it is shown.

The code is one tensor, as for ``eyes-128``: ``(B, z_dim + num_classes + 1)`` =
``[z | one-hot class | truncation]`` (``z_dim = 128``, 1000 ImageNet classes for the official
models).  BigGAN's truncation is one Python float per forward (it picks the batch-norm statistics),
so codes with different truncations are run in groups.

Layers (128 model): ``generator.layers.i`` are the residual blocks and the self-attention
(``generator.layers.8``, at 64×64).  Default split ``generator.layers.4`` (1024×16×16, the paper's
middle of the generator), cheap split ``generator.layers.6`` (512×32×32: a shorter tail for quick
CPU runs).  The 256 and 512 models are the same architecture with more blocks: ``layers.4`` is
1024×16×16 in all three, ``layers.6`` is 1024×32×32 in 256 and 512.
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.spectral_norm import SpectralNorm

from .builtin import WeightsFileDamaged, load_weights
from .split import SplitGenerator, split_generator

DEFAULT_LAYER = "generator.layers.4"
CHEAP_LAYER = "generator.layers.6"
NUM_CLASSES = 1000
Z_DIM = 128
WEIGHTS_ENV = "PRSG_BIGGAN_WEIGHTS"
"""Environment variable read when ``weights`` is not given: a folder with the model's files, or a
folder holding one sub-folder per model (``biggan-deep-128/``…)."""

# The three official generators (the configs shipped beside the official weights): residual blocks
# as (up-sample?, in, out) channel multipliers of ``channel_width``; self-attention before block 8.
_BLOCKS = {
    128: [(False, 16, 16), (True, 16, 16), (False, 16, 16), (True, 16, 8), (False, 8, 8),
          (True, 8, 4), (False, 4, 4), (True, 4, 2), (False, 2, 2), (True, 2, 1)],
    256: [(False, 16, 16), (True, 16, 16), (False, 16, 16), (True, 16, 8), (False, 8, 8),
          (True, 8, 8), (False, 8, 8), (True, 8, 4), (False, 4, 4), (True, 4, 2), (False, 2, 2),
          (True, 2, 1)],
    512: [(False, 16, 16), (True, 16, 16), (False, 16, 16), (True, 16, 8), (False, 8, 8),
          (True, 8, 8), (False, 8, 8), (True, 8, 4), (False, 4, 4), (True, 4, 2), (False, 2, 2),
          (True, 2, 1), (False, 1, 1), (True, 1, 1)],
}
BIGGAN_MODELS = tuple(f"biggan-deep-{r}" for r in _BLOCKS)

# A 32×32 BigGAN-deep with the same block types (conditional batch norm, bottleneck residual
# blocks, self-attention) but 8 base channels and 10 classes: 0.1 M parameters, for tests and
# CPU demos.  Its layers: 0 (128×4×4), 1 (64×8×8), 2 (32×16×16), 3 attention, 4 (16×32×32), 5 (8×32×32).
TINY_CONFIG: dict[str, Any] = dict(
    output_dim=32, z_dim=16, class_embed_dim=16, channel_width=8, num_classes=10,
    layers=[(False, 16, 16), (True, 16, 8), (True, 8, 4), (True, 4, 2), (False, 2, 1)],
    attention_layer_position=3, eps=1e-4, n_stats=51,
)


class BigGANPackageMissing(ModuleNotFoundError):
    """``pytorch-pretrained-biggan`` (the architecture's code) is not installed."""


class BigGANWeightsMissing(FileNotFoundError):
    """No local BigGAN weights were given (this toolkit never downloads them)."""


def _package():
    try:
        import pytorch_pretrained_biggan as ppb  # imports boto3, requests and scipy at import time
    except ModuleNotFoundError as err:
        raise BigGANPackageMissing(
            f"BigGAN needs the PyPI package 'pytorch-pretrained-biggan' ({err.msg}). Install it with\n"
            "    pip install 'prsg_widgets[biggan]'\n"
            "(its import pulls in boto3, requests and scipy)"
        ) from err
    return ppb


def _coded_class():
    """``BigGAN`` with a ``forward(code)`` that unpacks ``[z | one-hot | truncation]``."""
    base: Any = _package().BigGAN  # the untyped package's class, imported on first use

    class BigGANCoded(base):
        """The package's ``BigGAN`` whose forward takes one code tensor (see the module docstring).

        Submodule names and the state dict are the package's, so official checkpoints load as is.
        """

        def forward(self, code: Tensor) -> Tensor:
            zd, nc = self.config.z_dim, self.config.num_classes
            if code.dim() != 2 or code.shape[1] != zd + nc + 1:
                raise ValueError(f"a BigGAN code is (B, {zd + nc + 1}) = [z ({zd}) | one-hot class ({nc}) | "
                                 f"truncation (1)], got {tuple(code.shape)}")
            z, label, trunc = code[:, :zd], code[:, zd:zd + nc], code[:, -1]
            values = [round(t, 6) for t in torch.unique(trunc).tolist()]  # float32 → the float a user typed
            if len(values) == 1:
                return self._run(z, label, values[0])
            out = None
            for t in values:  # one forward per truncation: it selects batch-norm statistics
                rows = (trunc - t).abs() < 1e-6
                part = self._run(z[rows], label[rows], t)
                if out is None:
                    out = part.new_empty(code.shape[0], *part.shape[1:])
                out[rows] = part
            assert out is not None  # values holds at least two truncations here
            return out

        def _run(self, z: Tensor, label: Tensor, truncation: float) -> Tensor:
            if not 0 < truncation <= 1:
                raise ValueError(f"BigGAN truncation must be in (0, 1], got {truncation}")
            cond = torch.cat((z, self.embeddings(label)), dim=1)
            return self.generator(cond, truncation)

    return BigGANCoded


def biggan_config(name: str = "biggan-deep-128", **overrides: Any):
    """The package's ``BigGANConfig`` of an official model (``biggan-deep-128/256/512``), or of
    ``"tiny"`` (:data:`TINY_CONFIG`), with ``overrides`` applied.
    """
    ppb = _package()
    if name == "tiny":
        values = dict(TINY_CONFIG)
    else:
        res = _resolution(name)
        values = dict(output_dim=res, z_dim=Z_DIM, class_embed_dim=Z_DIM, channel_width=128,
                      num_classes=NUM_CLASSES, layers=list(_BLOCKS[res]), attention_layer_position=8,
                      eps=1e-4, n_stats=51)
    values.update(overrides)
    return ppb.BigGANConfig(**values)


def _resolution(name: str) -> int:
    for res in _BLOCKS:
        if name == f"biggan-deep-{res}":
            return res
    raise ValueError(f"unknown BigGAN model {name!r}; models: {', '.join(BIGGAN_MODELS)} (or 'tiny')")


def build_biggan(config, seed: int = 0, calibrate: bool = True) -> nn.Module:
    """The architecture with deterministic random weights (``seed``), in eval mode.

    ``calibrate=False`` skips the power iterations and the batch-norm calibration below (for a
    module whose weights are loaded next, or to inspect the architecture cheaply).

    The package leaves the last batch norm's scale and shift uninitialised (``torch.Tensor(n)``);
    they are set to 1 and 0 here, and the attention gate (0 in the package) to 0.1 so the
    attention path is exercised.  Spectral norm's singular vectors start random (in eval mode a
    random ``σ`` can be ≈ 0 and blow activations up to NaN): 30 power iterations make ``σ`` the
    real largest singular value.  The batch-norm statistics are calibrated on 4 random codes
    (:func:`_calibrate_batch_norms`).  Loading a checkpoint overwrites all of these.
    """
    cls = _coded_class()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = cls(config)
        with torch.no_grad():
            model.generator.bn.weight.fill_(1.0)
            model.generator.bn.bias.fill_(0.0)
            for m in model.modules():
                if hasattr(m, "gamma") and isinstance(m.gamma, nn.Parameter):
                    m.gamma.fill_(0.1)
            if calibrate:
                for m in model.modules():
                    for hook in m._forward_pre_hooks.values():
                        if isinstance(hook, SpectralNorm):
                            _power_iterate(m, hook, 30)
                _calibrate_batch_norms(model, seed)
    return model.eval()


def _calibrate_batch_norms(model: nn.Module, seed: int, batch: int = 4) -> None:
    """Set every batch norm's statistics (all truncation slots) to those of its input on ``batch``
    random codes, in forward order — what training would have left there.  Without it, random
    weights give images that hardly depend on the code (the explanation is then trivially f_T = b).
    """
    cfg: Any = model.config  # the package's BigGANConfig
    code = biggan_sampler(cfg.z_dim, cfg.num_classes, 1.0)(batch, torch.Generator().manual_seed(seed))

    def calibrate(bn, args):
        x = args[0]
        dims = [0] + list(range(2, x.dim()))
        bn.running_means.copy_(x.mean(dims).expand_as(bn.running_means))
        bn.running_vars.copy_(x.var(dims, unbiased=False).expand_as(bn.running_vars))

    handles = [m.register_forward_pre_hook(calibrate) for m in model.modules()
               if hasattr(m, "running_means") and hasattr(m, "running_vars")]
    try:
        model(code)
    finally:
        for h in handles:
            h.remove()


def _power_iterate(module: nn.Module, sn: SpectralNorm, steps: int) -> None:
    """Run ``steps`` power iterations of a spectral-normed module's ``u``, ``v`` in place."""
    w = sn.reshape_weight_to_matrix(getattr(module, sn.name + "_orig"))
    u, v = getattr(module, sn.name + "_u"), getattr(module, sn.name + "_v")
    for _ in range(steps):
        v.copy_(torch.nn.functional.normalize(w.t() @ u, dim=0, eps=sn.eps))
        u.copy_(torch.nn.functional.normalize(w @ v, dim=0, eps=sn.eps))


def find_weights(name: str, weights: str | os.PathLike | None) -> tuple[Path, Path]:
    """``(config.json, pytorch_model.bin)`` of ``name`` under ``weights`` (or ``$PRSG_BIGGAN_WEIGHTS``).

    ``weights`` may be a folder with ``config.json`` + ``pytorch_model.bin`` (what the package's
    ``from_pretrained`` reads from a local folder), a folder with the bucket's file names
    (``<name>-config.json``, ``<name>-pytorch_model.bin``), a folder with a ``<name>/``
    sub-folder of either kind, or the ``.bin`` file itself (``config.json`` beside it).
    Raises :class:`BigGANWeightsMissing` with instructions when nothing is found.
    """
    if weights is None:
        weights = os.environ.get(WEIGHTS_ENV) or None
    if weights is None:
        raise BigGANWeightsMissing(_no_weights_message(name))
    root = Path(weights).expanduser()
    candidates: list[tuple[Path, Path]] = []
    if root.is_file():
        candidates += [(root.parent / "config.json", root), (root.parent / f"{name}-config.json", root)]
    for folder in (root, root / name):
        candidates += [(folder / "config.json", folder / "pytorch_model.bin"),
                       (folder / f"{name}-config.json", folder / f"{name}-pytorch_model.bin")]
    for cfg, binary in candidates:
        if cfg.is_file() and binary.is_file():
            return cfg, binary
    looked = "\n".join(f"    {c}  +  {b.name}" for c, b in candidates)
    raise BigGANWeightsMissing(f"no {name} weights found at {root}; looked for\n{looked}\n\n"
                               + _no_weights_message(name))


_BUCKET = "https://s3.amazonaws.com/models.huggingface.co/biggan"


def _no_weights_message(name: str) -> str:
    return (
        f"{name} needs its pretrained weights, which this toolkit never downloads. They are "
        f"DeepMind's BigGAN-deep (TF Hub 'deepmind/{name}', Apache-2.0) converted to PyTorch by the "
        f"authors of pytorch-pretrained-biggan, whose BigGAN.from_pretrained('{name}') fetches them "
        f"from their bucket. On a machine with internet, put the two files in one folder:\n"
        f"    mkdir biggan && cd biggan\n"
        f"    curl -LO {_BUCKET}/{name}-config.json\n"
        f"    curl -LO {_BUCKET}/{name}-pytorch_model.bin\n"
        f"(or a folder with config.json + pytorch_model.bin: what from_pretrained reads from a local "
        f"folder; for 128 the Hub repository 'osanseviero/BigGAN-deep-128' holds such a copy; or "
        f"convert the TF Hub module with the package's convert_tf_to_pytorch). Then point at it:\n"
        f"    load_generator('{name}', weights='biggan')\n"
        f"    export {WEIGHTS_ENV}=$PWD/biggan    # read when weights= is not given (CLI, Explainer('{name}'))\n"
        f"To build the architecture with random weights instead (no meaningful images): weights='random'."
    )


def load_biggan_module(name: str = "biggan-deep-128", weights: str | os.PathLike | None = None,
                       config=None, seed: int = 0) -> nn.Module:
    """The ``forward(code) -> image`` BigGAN module, unsplit.

    ``weights``: a local folder (see :func:`find_weights`) or ``"random"``.  ``config`` (a
    ``BigGANConfig``) is only used with random weights (default: the official ``name`` config).
    Checkpoints are read with ``torch.load(weights_only=True)``; unlike the package's
    ``from_pretrained`` (``strict=False``), a checkpoint that leaves any weight unset is an error.
    A damaged ``config.json`` or checkpoint (truncated, corrupt, not this model's) is a
    :class:`~prsg_widgets.models.builtin.WeightsFileDamaged` saying to copy the local files again.
    """
    if isinstance(weights, str) and weights == "random":
        return build_biggan(config if config is not None else biggan_config(name), seed=seed)
    if config is not None:
        raise ValueError("config= builds a random-weight model; with a checkpoint, its config.json is used")
    _resolution(name)
    cfg_path, bin_path = find_weights(name, weights)
    remedy = _recopy(name, bin_path.parent)
    ppb = _package()
    try:
        with open(cfg_path, encoding="utf-8") as fh:
            config = ppb.BigGANConfig.from_dict(json.load(fh))
        model = build_biggan(config, seed=seed, calibrate=False)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, RuntimeError, UnicodeDecodeError) as err:
        raise WeightsFileDamaged(f"the config file {cfg_path} is damaged ({type(err).__name__}); {remedy}") from None
    state = load_weights(bin_path, remedy)
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError:  # a weight of the wrong shape
        raise WeightsFileDamaged(f"the weights file {bin_path} is damaged (its weights do not fit {cfg_path}); "
                                 f"{remedy}") from None
    if result.missing_keys:
        raise WeightsFileDamaged(f"{bin_path} does not match its config ({cfg_path}): missing "
                                 f"{len(result.missing_keys)} weights, e.g. {result.missing_keys[:5]}; {remedy}")
    if result.unexpected_keys:
        raise WeightsFileDamaged(f"{bin_path} has {len(result.unexpected_keys)} weights the architecture lacks, "
                                 f"e.g. {result.unexpected_keys[:5]}; {remedy}")
    return model.eval()


def _recopy(name: str, folder: Path) -> str:
    return (f"copy {name}'s config.json and pytorch_model.bin into {folder} again from your intact copy "
            "(this toolkit never downloads them; docs/models.md says where they come from)")


def biggan_sampler(z_dim: int = Z_DIM, num_classes: int = NUM_CLASSES, truncation: float = 0.4,
                   class_id: int | Sequence[int] | None = None):
    """``sampler(batch, generator) -> code``: ``z = truncation · TruncNormal(−2, 2)`` (BigGAN's
    truncation trick, drawn with the torch RNG), the one-hot class (``class_id``: fixed, one of a
    list, or ``None`` for uniform over all classes), then the truncation.
    """
    if not 0 < truncation <= 1:
        raise ValueError(f"BigGAN truncation must be in (0, 1], got {truncation}")
    classes = None
    if class_id is not None:
        classes = torch.as_tensor([class_id] if isinstance(class_id, int) else list(class_id), dtype=torch.long)
        if classes.numel() == 0 or classes.min() < 0 or classes.max() >= num_classes:
            raise ValueError(f"class_id must be in 0..{num_classes - 1}, got {class_id}")

    def sample(batch: int, gen: torch.Generator) -> Tensor:
        z = torch.randn(batch, z_dim, generator=gen)
        out = z.abs() > 2
        while out.any():  # resample until every value is in [-2, 2]
            z[out] = torch.randn(int(out.sum()), generator=gen)
            out = z.abs() > 2
        if classes is None:
            labels = torch.randint(num_classes, (batch,), generator=gen)
        else:
            labels = classes[torch.randint(classes.numel(), (batch,), generator=gen)]
        onehot = torch.nn.functional.one_hot(labels, num_classes).float()
        return torch.cat([truncation * z, onehot, torch.full((batch, 1), float(truncation))], 1)

    return sample


def load_biggan(
    name: str = "biggan-deep-128",
    layer: str | None = None,
    device: str | torch.device | None = None,
    weights: str | os.PathLike | None = None,
    truncation: float = 0.4,
    class_id: int | Sequence[int] | None = None,
    config=None,
    seed: int = 0,
) -> SplitGenerator:
    """BigGAN-deep split at ``layer`` (default ``generator.layers.4``, 1024×16×16).

    ``weights``: a local folder with the official files (see :func:`find_weights`; default
    ``$PRSG_BIGGAN_WEIGHTS``), or ``"random"`` for the real architecture with random weights
    (``seed``; ``config`` may shrink it, e.g. ``biggan_config("tiny")``).  Sampled codes use
    ``truncation`` and ``class_id`` (an ImageNet class index, a list of them, or ``None`` for
    random classes).  Images are in [-1, 1].  Raises :class:`BigGANWeightsMissing` when no weights
    are given, saying where the official ones come from.
    """
    random_weights = isinstance(weights, str) and weights == "random"
    model = load_biggan_module(name, weights, config=config, seed=seed).to(device or "cpu")
    cfg: Any = model.config  # the package's BigGANConfig
    label = name if config is None else f"{name}-custom"
    if random_weights:
        label += " (random weights)"
    return split_generator(
        model, DEFAULT_LAYER if layer is None else layer,
        biggan_sampler(cfg.z_dim, cfg.num_classes, truncation, class_id),
        (-1.0, 1.0), name=label, random_weights=random_weights, truncation=truncation,
    )
