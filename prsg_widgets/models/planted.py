"""The built-in ``"toy-planted"`` model: a generator whose exact OR components are known.

A 48×48 scene on a 6×6 grid of 8-pixel patches: a constant grey background and :data:`OBJECTS`,
each a rectangle of whole patches.  The code ``z`` has one entry per object plus
:data:`DISTRACTORS` entries that the picture ignores.  The feature (layer ``main.0``, shape
``(C, 6, 6)``) gives object ``k`` its own :data:`CHANNELS` channels, ``f[C_k] = z_k · v_k`` with a
fixed positive profile ``v_k``; the tail (``main.1``) paints object ``k``'s pixels from one scalar,

    a_k = σ(γ · mean(f[C_k])),        pixel = background + a_k · (colour_k − background),

and never reads the distractor channels.

Why the answer is known.  Every patch is either inside one object or background, so a patch's
error depends on one scalar: a background patch is always right, and every patch of object ``k``
has the same error ``colour_k² · (a_k(f_T) − a_k(f))²``.  Because ``f − b`` on ``C_k`` is
``(z_k − z̄_k) · v_k`` — one sign, and proportional to the weights of the mean — the cheapest way
(in ``‖m ⊙ (f − b)‖₁``) to bring ``a_k`` within tolerance is the same for every subset ``T`` that
holds a patch of object ``k``: ``m = t_k`` on ``C_k`` with the smallest ``t_k`` that puts the error
at the solver's aim ``(1 − margin)·ε``, and ``m = 0`` elsewhere.  So ``u(T) = Σ_{k: T∩S_k≠∅} u_k``
with ``S_k`` the patches of ``N`` on object ``k``: the OR components are ``I(S_k) = u_k``, every
other component is 0, and cancellation is exactly 1.  :func:`planted_components` computes them in
closed form, so a test (and the teaching notebook) can hold a solver's answer against the truth.

(The minimiser sits on the tolerance boundary — not inside the penalty — when ``λ·|∂mse/∂t|``
beats the L1 slope there; :func:`planted_components` checks that and says so when it fails.)
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .split import SplitGenerator, split_generator

SIZE = 48
"""Image height and width in pixels."""
GRID = 6
"""The patch grid the objects are aligned to (patch = 8×8 pixels; use ``Explainer(grid=6)``)."""
CHANNELS = 3
"""Feature channels per object."""
DISTRACTORS = 2
"""Code entries (and feature channels) that the picture ignores."""
BACKGROUND = -0.4
"""The background's value in every colour channel."""
GAIN = 1.5
"""γ in ``a_k = σ(γ · mean(f[C_k]) / mean(v_k))``: an object's intensity is ``σ(1.5 z_k)``."""


@dataclass(frozen=True)
class PlantedObject:
    """An object: its name, RGB colour in [-1, 1], and the grid rows/columns it fills (half-open)."""

    name: str
    colour: tuple[float, float, float]
    rows: tuple[int, int]
    cols: tuple[int, int]

    def patch_ids(self) -> list[int]:
        """Patch ids (``row * GRID + col``) this object covers."""
        return [r * GRID + c for r in range(*self.rows) for c in range(*self.cols)]


OBJECTS: tuple[PlantedObject, ...] = (
    PlantedObject("sun", (1.0, 0.85, -0.6), (0, 2), (3, 5)),
    PlantedObject("house", (0.9, -0.7, -0.6), (3, 5), (1, 3)),
    PlantedObject("tree", (-0.7, 0.8, -0.6), (2, 5), (4, 5)),
    PlantedObject("lake", (-0.7, -0.2, 1.0), (5, 6), (2, 5)),
)
"""The objects of every scene (their intensities come from the code)."""

CODE_DIM = len(OBJECTS) + DISTRACTORS
DEFAULT_LAYER = "main.0"


def _profiles() -> Tensor:
    """Fixed positive profiles ``v`` ``(C, 6, 6)`` in [0.5, 1.5] (seeded, so the model is a constant)."""
    gen = torch.Generator().manual_seed(2026)
    return 0.5 + torch.rand(len(OBJECTS) * CHANNELS + DISTRACTORS, GRID, GRID, generator=gen)


def _object_pixel_masks() -> Tensor:
    """``(K, H, W)`` 0/1 masks of the objects."""
    step = SIZE // GRID
    masks = torch.zeros(len(OBJECTS), SIZE, SIZE)
    for k, obj in enumerate(OBJECTS):
        masks[k, obj.rows[0] * step:obj.rows[1] * step, obj.cols[0] * step:obj.cols[1] * step] = 1
    return masks


class PlantedHead(nn.Module):
    """``code (B, K + DISTRACTORS) → feature (B, C, 6, 6)``: channel group ``k`` is ``z_k · v_k``."""

    profiles: Tensor  # buffers, declared so that they type as tensors
    owner: Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("profiles", _profiles())
        owner = torch.arange(len(OBJECTS)).repeat_interleave(CHANNELS)
        owner = torch.cat([owner, len(OBJECTS) + torch.arange(DISTRACTORS)])
        self.register_buffer("owner", owner)  # which code entry drives each channel

    def forward(self, code: Tensor) -> Tensor:
        return code[:, self.owner, None, None] * self.profiles


class PlantedRenderer(nn.Module):
    """``feature → image (B, 3, 48, 48)``: object ``k`` painted with intensity ``σ(γ·mean(f[C_k]))``."""

    scale: Tensor  # buffers, declared so that they type as tensors
    masks: Tensor
    contrast: Tensor

    def __init__(self) -> None:
        super().__init__()
        profiles = _profiles()
        scale = profiles[: len(OBJECTS) * CHANNELS].view(len(OBJECTS), -1).mean(1)
        self.register_buffer("scale", scale)  # mean(v_k): a_k = σ(γ z_k) at the sample's own feature
        self.register_buffer("masks", _object_pixel_masks())
        colours = torch.tensor([o.colour for o in OBJECTS])  # (K, 3)
        self.register_buffer("contrast", colours - BACKGROUND)

    def intensity(self, feature: Tensor) -> Tensor:
        """``a (B, K)``: each object's intensity."""
        groups = feature[:, : len(OBJECTS) * CHANNELS].reshape(feature.shape[0], len(OBJECTS), -1)
        return torch.sigmoid(GAIN * groups.mean(2) / self.scale)

    def forward(self, feature: Tensor) -> Tensor:
        a = self.intensity(feature)  # (B, K)
        paint = torch.einsum("bk,kc,khw->bchw", a, self.contrast, self.masks)
        return BACKGROUND + paint


class PlantedGenerator(nn.Module):
    """``main = Sequential(PlantedHead, PlantedRenderer)``; ``forward(code)`` is the image."""

    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(PlantedHead(), PlantedRenderer())

    def forward(self, code: Tensor) -> Tensor:
        """``code (B, CODE_DIM)`` → the image ``(B, 3, 48, 48)``."""
        return self.main(code.reshape(code.shape[0], -1))


def sample_codes(batch: int, gen: torch.Generator) -> Tensor:
    """The code sampler: standard normal ``(batch, CODE_DIM)``."""
    return torch.randn(batch, CODE_DIM, generator=gen)


def object_masks(code: Tensor) -> Tensor:
    """True object masks ``(B, K, 48, 48)`` (the layout is the same for every code)."""
    return _object_pixel_masks().to(code.device).expand(code.shape[0], -1, -1, -1)


def load_planted(layer: str | None = None, device: str | torch.device | None = None) -> SplitGenerator:
    """The built-in ``"toy-planted"`` generator, split at ``main.0`` (its only useful layer)."""
    from .priors import union_of_objects

    model = PlantedGenerator()
    if device is not None:
        model = model.to(device)
    return split_generator(model, DEFAULT_LAYER if layer is None else layer, sample_codes=sample_codes,
                          value_range=(-1.0, 1.0), name="toy-planted", object_masks=object_masks,
                          foreground=union_of_objects(object_masks), planted=True)


def object_patches(patches: Sequence[int]) -> list[list[int]]:
    """For each object, the positions ``i`` in ``patches`` (= bits of a subset) of the patches it covers."""
    ids = [int(p) for p in patches]
    return [[i for i, p in enumerate(ids) if p in set(obj.patch_ids())] for obj in OBJECTS]


def planted_components(feature: Tensor, baseline: Tensor, patches: Sequence[int], epsilon: float,
                       margin: float = 0.05, lam: float | None = None) -> dict[int, Tensor]:
    """The exact OR components ``{S_k: I(S_k)}`` of this model for patches ``N`` (Eq. 6).

    ``feature``/``baseline`` are the sample's ``f`` and ``b`` (any shape with ``d`` elements);
    ``epsilon`` the solver's mse tolerance in image units, ``margin`` its aim ``(1 − margin)·ε``.
    ``S_k`` is the bitmask over ``patches`` of the patches on object ``k``; objects that ``N`` does
    not touch, or whose intensity is already within tolerance at ``b``, have no component.
    With ``lam`` (λ), raises ``ValueError`` when the penalised optimum would not sit on the
    tolerance boundary (then the closed form does not describe the solver's objective).
    """
    renderer = PlantedRenderer()
    f = feature.detach().reshape(1, -1, GRID, GRID).float().cpu()
    b = baseline.detach().reshape(1, -1, GRID, GRID).float().cpu()
    delta = f - b
    d = f.numel()
    aim = epsilon * (1.0 - margin)
    a_f, a_b = renderer.intensity(f)[0], renderer.intensity(b)[0]
    colour = (renderer.contrast ** 2).mean(1)  # a patch's mse is colour_k · (a − a_f)²
    out: dict[int, Tensor] = {}
    for k, bits in enumerate(object_patches(patches)):
        if not bits:
            continue
        tol = math.sqrt(aim / float(colour[k]))
        gap = float(a_f[k] - a_b[k])
        if abs(gap) <= tol:
            continue  # the baseline already paints it within tolerance: nothing to change
        target = float(a_f[k]) - math.copysign(tol, gap)
        s_t = math.log(target / (1 - target)) * float(renderer.scale[k]) / GAIN  # mean(f_T[C_k]) needed
        group = slice(k * CHANNELS, (k + 1) * CHANNELS)
        s_b, s_f = float(b[0, group].mean()), float(f[0, group].mean())
        t = (s_t - s_b) / (s_f - s_b)
        if lam is not None:
            # ∂mse/∂t at the boundary vs the L1 slope ‖Δ[C_k]‖₁/d: the kink must be the optimum
            sig = target * (1 - target)
            slope = 2 * float(colour[k]) * tol * sig * GAIN / float(renderer.scale[k]) * abs(s_f - s_b)
            l1 = float(delta[0, group].abs().sum()) / d
            if lam * slope <= l1:
                raise ValueError(f"object {OBJECTS[k].name}: λ·∂mse/∂t = {lam * slope:.3g} ≤ L1 slope {l1:.3g}; "
                                 "the optimum is not on the tolerance boundary (raise lam)")
        comp = torch.zeros_like(delta)
        comp[0, group] = t * delta[0, group]
        mask = sum(1 << i for i in bits)
        out[mask] = out.get(mask, torch.zeros_like(comp).reshape(-1)) + comp.reshape(-1)
    return out


def planted_answer(explanation) -> dict[int, Tensor]:
    """:func:`planted_components` for an :class:`~prsg_widgets.backend.explanation.Explanation` of
    ``"toy-planted"`` (its feature, baseline, patches, ε and the solver's margin and λ).
    """
    if explanation.meta.model != "toy-planted":
        raise ValueError(f"planted_answer needs an explanation of 'toy-planted', got {explanation.meta.model!r}")
    solver = explanation.meta.solver
    return planted_components(explanation.sample.feature, explanation.baseline, explanation.patches,
                              explanation.epsilon, margin=float(solver.get("margin", 0.05)),
                              lam=float(solver.get("lam", 200.0)))


__all__ = ["CODE_DIM", "GRID", "OBJECTS", "PlantedGenerator", "PlantedObject", "SIZE", "load_planted",
           "object_masks", "object_patches", "planted_answer", "planted_components", "sample_codes"]
