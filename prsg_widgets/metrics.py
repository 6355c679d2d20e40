"""The paper's measurements (DESIGN.md §2), every definition in this one module.

**These metric formulas are reconstructions.**  The extracted text of the paper lost every
formula; DESIGN.md §2 restores them and the choices it leaves open are made here (each is
flagged "choice:" in its docstring).  A user who prefers another definition replaces one
function; nothing else in the package computes these numbers.

All metrics take :class:`~prsg_widgets.Explanation` objects (the explanation knows its explainer,
which renders images).  None of them recomputes anything behind the caller's back: they read the
explanation's minimal features / components (solving what is missing, exactly as
``Explanation.component_array()`` would) and render only the images the formula needs.

Conventions used throughout:

* subsets are int bitmasks over ``explanation.patches`` (bit i ⇔ ``patches[i]``) or iterables of
  patch ids, as everywhere in the package;
* "RMSE over a patch set" is ``sqrt(Σ (a − b)² / (#pixels · C))`` — the root of the solver's
  ``mse_T`` (a mean over the values inside ``clip_T``, all channels), so ``RMSE ≤ sqrt(ε)`` means
  "as good as the solver's tolerance".  With equal-size patches this is App. F's
  ``sqrt(‖clip_T(x̂) − clip_T(x)‖² / (|T| · pixels per patch))`` counted per value.

Choices made here where DESIGN.md is silent (swap the function to change one):

* dense control (App. I): per-channel normal with the feature's channel mean/std, clamped at 0
  when the feature is non-negative; same code, same patches (:func:`dense_control`);
* ρ is also reported against its chance level, the pixel share of ``A(S)``
  (:func:`action_field_area`);
* boundary breach: "the other patches" are ``N ∖ {i}`` (pixels outside ``N`` reported apart);
  scalar summary = final RMSE of ``i`` / final RMSE of the others (:attr:`BreachResult.breach_ratio`);
* inconsistency: contexts ``T`` are all non-empty subsets of ``N ∖ S`` (or a seeded sample);
  the context sums over *all* components, so it equals ``f_T`` (Eq. 7);
* transferability: ``k`` beyond ``2^n − 1`` is cut; the chance level ``k_b / (2^n − 1)`` is
  returned with the ratio;
* sequential reconstruction: step ``j`` uses every component meeting the first ``j`` patches;
* Table 1 baseline: PCA directions of the layer (centred at ``b``), ``f_N − b`` projected on them;
  their action fields are *assigned* from their own patterns (:func:`pca_decomposition`);
* sparsity summaries and solver "sparsity" (:func:`sparsity_stats`, :func:`solver_summary`);
* toy-scenes object patches: at least 25% of the patch covered by a true object (:func:`object_share`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from .backend import Explainer, Explanation
from .core.health import mass_share_sorted, matching_errors

SubsetLike = Union[int, Iterable[int]]

__all__ = [
    "sorted_magnitudes", "sparsity_curve", "sparsity_stats", "dense_control",
    "real_action_field_ratio", "real_action_field_ratios", "action_field_area",
    "TransferResult", "transferability",
    "ReconstructionResult", "controllable_reconstruction",
    "SequentialResult", "sequential_reconstruction",
    "MatchingResult", "matching_error",
    "BreachResult", "boundary_breach",
    "ConsistencyResult", "inconsistency",
    "Decomposition", "decomposition_from_explanation", "pca_directions", "pca_decomposition",
    "completeness_residual", "decomposition_rho", "decomposition_breach",
    "decomposition_inconsistency", "decomposition_transferability",
    "PropertyScores", "score_properties", "solver_summary", "object_share",
]


# ---------------------------------------------------------------------------------- helpers
def _popcount(s: int) -> int:
    return bin(int(s)).count("1")


def _rmse(a: Tensor, b: Tensor, mask: Tensor) -> float:
    """RMSE per value inside the pixel ``mask`` ``(H, W)``; ``nan`` on an empty mask."""
    mask = mask.to(a.device)
    count = int(mask.sum()) * a.shape[-3]
    if count == 0:
        return float("nan")
    diff = (a.double() - b.double()).pow(2) * mask
    return math.sqrt(float(diff.sum()) / count)


def _rmse_batch(a: Tensor, b: Tensor, mask: Tensor) -> np.ndarray:
    """Row-wise :func:`_rmse` of images ``a`` ``(k, C, H, W)`` against one image ``b``."""
    mask = mask.to(a.device)
    count = int(mask.sum()) * a.shape[-3]
    if count == 0:
        return np.full(a.shape[0], np.nan)
    diff = (a.double() - b.double().unsqueeze(0)).pow(2) * mask
    return np.sqrt(diff.flatten(1).sum(1).numpy() / count)


def _explainer(explanation: Explanation) -> Explainer:
    return explanation._need_explainer()


# ---------------------------------------------------------------------------------- sparsity
def sorted_magnitudes(vectors: Union[Tensor, np.ndarray, Sequence[Union[Tensor, np.ndarray]]]) -> np.ndarray:
    """``|value|`` of every element of ``vectors`` (one tensor, or several concatenated), sorted
    descending, as ``float64``: the Fig. 3 curve of one component, or of the components solved
    so far (:func:`sparsity_curve` is this over all non-empty components).  Empty: length 0."""
    parts = [vectors] if isinstance(vectors, (Tensor, np.ndarray)) else list(vectors)
    flat = [v.detach().abs().flatten().cpu().numpy().astype(np.float64) if isinstance(v, Tensor)
            else np.abs(np.asarray(v, dtype=np.float64)).ravel() for v in parts]
    if not flat:
        return np.zeros(0)
    values = flat[0] if len(flat) == 1 else np.concatenate(flat)
    return -np.sort(-values)


def sparsity_curve(explanation: Explanation) -> np.ndarray:
    """Fig. 3: every element of every non-empty component ``I(S)``, ``S ≠ ∅``, as ``|value|``
    sorted descending (length ``(2^n − 1) · d``).  Solves what is missing."""
    return sorted_magnitudes(explanation.component_array()[1:])


def sparsity_stats(curve: np.ndarray, rel: float = 0.01, mass: float = 0.9) -> dict[str, float]:
    """Scalar summaries of a sparsity curve (choice: DESIGN.md gives only the curve).

    ``salient_fraction``: share of elements with ``|v| > rel · max|v|``; ``mass_fraction``: the
    smallest share of elements holding ``mass`` of the total L1 mass; ``max``: the largest value.
    Lower fractions = sparser.
    """
    curve = np.asarray(curve, dtype=np.float64)
    if curve.size == 0 or curve[0] == 0:
        return {"salient_fraction": 0.0, "mass_fraction": 0.0, "max": 0.0, "elements": float(curve.size)}
    salient = float((curve > rel * curve[0]).mean())
    return {"salient_fraction": salient, "mass_fraction": mass_share_sorted(curve, mass),
            "max": float(curve[0]), "elements": float(curve.size)}


def dense_control(explainer: Explainer, explanation: Explanation, seed: int = 0) -> Explanation:
    """App. I / Fig. 16: the same pipeline on a random feature of the sample's shape and statistics.

    Choice (the paper says only "a random tensor"): per channel of the layer (dim 0 of
    ``generator.feature_shape``), draw i.i.d. normal values with that channel's mean and standard
    deviation in the sample's feature; if the sample's feature is non-negative everywhere (as
    after a ReLU), clamp the draw at 0 so it stays in the layer's range.  The draw is seeded.
    The returned explanation covers the same patch ids and is **not solved** — call
    ``solve_all()`` (or any accessor) on it; once solved, ``explanation.health()`` reports its
    sparsity too.  Solve it with the independent solver: ``nested`` solving makes any feature
    look sparse.
    """
    feature = explanation.feature.reshape(explainer.generator.feature_shape).double()
    flat = feature.reshape(feature.shape[0], -1) if feature.dim() > 1 else feature.reshape(1, -1)
    mean = flat.mean(1, keepdim=True)
    std = flat.std(1, keepdim=True) if flat.shape[1] > 1 else torch.zeros_like(mean)
    gen = torch.Generator().manual_seed(int(seed))
    noise = torch.randn(flat.shape, generator=gen, dtype=torch.float64)
    rand = mean + std * noise
    if bool((feature >= 0).all()):
        rand = rand.clamp_min(0.0)
    rand = rand.reshape(-1).to(explanation.feature.dtype)
    sample = explainer.sample_from_feature(rand, code=explanation.sample.code, label="dense control")
    control = explainer.explain(sample, patches=list(explanation.patches))
    explanation.control = control  # its health then reports the control's sparsity beside its own
    return control


# ---------------------------------------------------------------------------------- ρ (3.2.1)
def real_action_field_ratios(explanation: Explanation, subsets: Sequence[SubsetLike]) -> np.ndarray:
    """Sec. 3.2.1, batched: ``ρ(S) = ‖clip_{A(S)}(Δx_S)‖₁ / ‖Δx_S‖₁`` for each ``S`` (pixel-wise,
    all channels), with ``Δx_S`` the regional pattern of Fig. 2.  ``nan`` where ``Δx_S = 0``."""
    ss = [explanation.subset(s) for s in subsets]
    if not ss:
        return np.zeros(0)
    patterns = explanation.regional_patterns(ss)
    return _share_inside(patterns, explanation.grid.subset_masks(explanation.patches, ss))


def _share_inside(patterns: Tensor, masks: Tensor) -> np.ndarray:
    """``‖clip_A(Δx)‖₁ / ‖Δx‖₁`` per pattern ``(k, C, H, W)`` and field mask ``(k, H, W)``; NaN for
    an all-zero pattern."""
    mag = patterns.double().abs().sum(1)
    inside = (mag * masks.to(mag.device)).flatten(1).sum(1)
    total = mag.flatten(1).sum(1)
    out = (inside / total).numpy()
    out[total.numpy() == 0] = np.nan
    return out


def real_action_field_ratio(explanation: Explanation, S: SubsetLike) -> float:
    """``ρ(S)`` of Sec. 3.2.1 for one component (see :func:`real_action_field_ratios`)."""
    return float(real_action_field_ratios(explanation, [S])[0])


def action_field_area(explanation: Explanation, subsets: Sequence[SubsetLike]) -> np.ndarray:
    """Share of the image's pixels inside ``A(S)`` — the ``ρ`` a pattern spread evenly over the
    image would get (the chance level to compare ``ρ`` with)."""
    grid = explanation.grid
    ss = [explanation.subset(s) for s in subsets]
    masks = grid.subset_masks(explanation.patches, ss)
    return masks.flatten(1).double().mean(1).numpy()


# ---------------------------------------------------------------------------------- transfer (3.4)
@dataclass
class TransferResult:
    """Sec. 3.4: action fields of the top-``k_a`` components of image a found among those of the
    top-``k_b`` components of image b (action fields as frozensets of patch ids)."""

    ratio: float
    top_a: list[frozenset]
    top_b: list[frozenset]
    matched: list[frozenset]
    k_a: int
    k_b: int
    chance: float
    """Expected ratio if image b's top-``k_b`` fields were drawn at random: ``k_b / (2^n − 1)``."""


def _same_positions(expl_a: Explanation, expl_b: Explanation) -> None:
    if sorted(expl_a.patches) != sorted(expl_b.patches):
        raise ValueError(
            "transferability compares action fields as patch-id sets, so both explanations must be "
            f"over the same patch positions; got {list(expl_a.patches)} and {list(expl_b.patches)}. "
            "Explain image b with patches=explanation_a.patches.")
    ga = expl_a.explainer.grid if expl_a.explainer is not None else None
    gb = expl_b.explainer.grid if expl_b.explainer is not None else None
    if ga is not None and gb is not None and ga != gb:
        raise ValueError(f"the two explanations use different patch grids ({ga} vs {gb}); patch ids "
                         "mean different regions")


def transferability(expl_a: Explanation, expl_b: Explanation, k_a: int = 20, k_b: int = 100) -> TransferResult:
    """Sec. 3.4: ``|A_a ∩ A_b| / k_a`` where ``A_a`` are the action fields of image a's top-``k_a``
    components (by ``‖I(S)‖₂``) and ``A_b`` those of image b's top-``k_b`` (paper: 20 / 100 of
    511; pass ``k_a == k_b`` for the symmetric version).  ``k`` larger than the number of
    non-empty components (``2^n − 1``) is cut to it; ``ratio`` divides by the cut ``k_a``.
    Raises ``ValueError`` unless both explanations are over the same patch positions."""
    _same_positions(expl_a, expl_b)
    top_a = [frozenset(c.patches) for c in expl_a.components(top=k_a)]
    top_b = [frozenset(c.patches) for c in expl_b.components(top=k_b)]
    set_b = set(top_b)
    matched = [a for a in top_a if a in set_b]
    total = expl_a.num_subsets - 1
    return TransferResult(ratio=len(matched) / max(1, len(top_a)), top_a=top_a, top_b=top_b,
                          matched=matched, k_a=len(top_a), k_b=len(top_b),
                          chance=min(k_b, total) / max(1, total))


# ---------------------------------------------------------------------------------- App. F
@dataclass
class ReconstructionResult:
    """App. F controllable reconstruction of the target patches ``target``.

    Step 0 is the baseline ``b``; step ``j`` adds the ``j``-th component of ``subsets``.
    ``rmse[j]``: RMSE on ``clip_T`` against the image ``x``; ``rmse_other[j]``: the same on the
    image's pixels outside ``T`` ("only partially reconstructed"); ``images[j]`` the rendering.
    """

    target: list[int]
    subsets: list[int]
    rmse: np.ndarray
    rmse_other: np.ndarray
    images: Tensor
    epsilon: float

    @property
    def tolerance(self) -> float:
        """``sqrt(ε)``: the RMSE the solver accepts for a minimal feature."""
        return math.sqrt(self.epsilon)


def controllable_reconstruction(explanation: Explanation, target_patches: Iterable[int],
                                k: Optional[int] = None) -> ReconstructionResult:
    """App. F: add, in order of ``‖I(S)‖₂`` (descending), the components whose action field
    covers part of the target ``T`` (``S ∩ T ≠ ∅``) — all of them, or the first ``k`` — to ``b``,
    rendering after each.  With all of them the last step is ``f̂_T = f_T`` (Eq. 7)."""
    target = [int(p) for p in target_patches]
    t = explanation.subset(target)
    if t == 0:
        raise ValueError("the target patch set is empty")
    comps = explanation.component_array()
    order = [c.subset for c in explanation.components() if c.subset & t]
    if k is not None:
        order = order[:k]
    feats = explanation.baseline.double().unsqueeze(0).repeat(len(order) + 1, 1)
    if order:
        feats[1:] += torch.cumsum(comps[order].double(), 0)
    images = explanation.render(feats.float())
    x = explanation.image
    mask = explanation.grid.mask(target)
    return ReconstructionResult(target, order, _rmse_batch(images, x, mask), _rmse_batch(images, x, ~mask),
                                images, float(explanation.epsilon))


@dataclass
class SequentialResult:
    """App. F sequential reconstruction: patches reconstructed one at a time in ``order``.

    Step 0 is ``b``; at step ``j`` the target is the first ``j`` patches of ``order`` and the
    feature is ``b + Σ_{S∩T_j≠∅} I(S)``.  ``rmse_patch[j, i]`` is the RMSE of ``patches[i]`` (the
    explanation's patch order) at step ``j``; ``rmse_new[j]`` that of the patch added at step ``j``
    (``nan`` at step 0); ``rmse_target[j]`` that of all patches added so far.
    """

    order: list[int]
    patches: list[int]
    rmse_patch: np.ndarray
    rmse_new: np.ndarray
    rmse_target: np.ndarray
    images: Tensor
    epsilon: float


def sequential_reconstruction(explanation: Explanation, order: Optional[Sequence[int]] = None,
                              seed: int = 0, k: Optional[int] = None) -> SequentialResult:
    """App. F / Figs. 11–12: reconstruct the patches of ``N`` one by one (``order``: patch ids;
    default a seeded random order).  ``k`` keeps only the ``k`` largest components (default all,
    where step ``j`` equals the minimal feature ``f_{T_j}``)."""
    if order is None:
        rng = np.random.default_rng(seed)
        order = [explanation.patches[i] for i in rng.permutation(explanation.n)]
    order = [int(p) for p in order]
    if sorted(order) != sorted(set(order)) or not set(order) <= set(explanation.patches):
        raise ValueError(f"order must list distinct patch ids among {explanation.patches}")
    keep = None if k is None else [c.subset for c in explanation.components(top=k)]
    recon = explanation.reconstruct(keep)  # (2^n, d) f̂_T
    steps = [0]
    acc = 0
    for p in order:
        acc |= explanation.subset([p])
        steps.append(acc)
    images = explanation.render(recon[steps])
    x = explanation.image
    per = np.stack([_rmse_batch(images, x, explanation.grid.mask([p])) for p in explanation.patches], 1)
    idx = {p: i for i, p in enumerate(explanation.patches)}
    new = np.array([np.nan] + [per[j + 1, idx[p]] for j, p in enumerate(order)])
    tgt = np.array([np.nan] + [_rmse(images[j + 1], x, explanation.grid.mask(order[:j + 1]))
                               for j in range(len(order))])
    return SequentialResult(order, list(explanation.patches), per, new, tgt, images, float(explanation.epsilon))


# ---------------------------------------------------------------------------------- Sec. 3.1
@dataclass
class MatchingResult:
    """Sec. 3.1 / Fig. 4: how well the top-``k`` components mimic every minimal feature.

    Indexed by subset bitmask ``T``: ``u_norm[T] = ‖u(T)‖₂``, ``u_sq[T] = ‖u(T)‖₂² / d``,
    ``error[T] = ‖u(T) − û(T)‖₂² / d`` with ``û(T) = Σ_{S ∈ top-k, S∩T≠∅} I(S)``.  ``order``
    sorts the subsets by ascending ``‖u(T)‖₂`` (the x-axis of Fig. 4).
    """

    k: int
    kept: list[int]
    u_norm: np.ndarray
    u_sq: np.ndarray
    error: np.ndarray
    order: np.ndarray

    @property
    def relative(self) -> np.ndarray:
        """``error / u_sq`` per subset (``nan`` where ``u(T) = 0``)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.u_sq > 0, self.error / self.u_sq, np.nan)


def matching_error(explanation: Explanation, k: int = 30) -> MatchingResult:
    """Sec. 3.1 (Eq. 7 with the top-``k`` components by ``‖I(S)‖₂``; paper: k = 30 of 511)."""
    u = explanation.minimal_features().double() - explanation.baseline.double()
    kept, err = matching_errors(u, explanation.component_array(), k)  # the same top-k as health()
    d = u.shape[1]
    u_norm = u.norm(dim=1).numpy()
    return MatchingResult(k=len(kept), kept=kept, u_norm=u_norm, u_sq=(u.pow(2).sum(1) / d).numpy(),
                          error=(err / d).numpy(),
                          order=np.argsort(u_norm, kind="stable"))


# ---------------------------------------------------------------------------------- Sec. 3.2.2
@dataclass
class BreachResult:
    """Sec. 3.2.2 / Figs. 5, 14, 15: components whose action field does not contain ``patch``
    added one by one (``steps[j]`` = label of the ``j``-th, a subset bitmask for explanations or a
    component index for decompositions) on top of ``b``.

    Against ``g(b)``: ``rmse_patch`` of the patch ``i``; ``rmse_others`` of the other selected
    patches ``N ∖ {i}`` together; ``rmse_each[j, m]`` of each selected patch; ``rmse_outside``
    of the pixels outside ``N``.  Row 0 is ``b`` itself (all zero).
    """

    patch: int
    patches: list[int]
    steps: list[int]
    rmse_patch: np.ndarray
    rmse_others: np.ndarray
    rmse_outside: np.ndarray
    rmse_each: np.ndarray
    images: Tensor

    @property
    def breach_ratio(self) -> float:
        """Final ``rmse_patch / rmse_others`` (0 = perfectly bounded; choice: a scalar summary
        DESIGN.md does not define)."""
        if not self.steps or not self.rmse_others[-1] > 0:
            return float("nan")
        return float(self.rmse_patch[-1] / self.rmse_others[-1])


def _breach(explanation: Explanation, patch: int, vectors: Tensor, labels: list[int]) -> BreachResult:
    b = explanation.baseline.double()
    feats = b.unsqueeze(0).repeat(len(labels) + 1, 1)
    if labels:
        feats[1:] += torch.cumsum(vectors.double(), 0)
    images = explanation.render(feats.float())
    ref = images[0]  # g(b) through the same tail call (codes matter for non-sequential tails)
    grid = explanation.grid
    others = [p for p in explanation.patches if p != patch]
    each = np.stack([_rmse_batch(images, ref, grid.mask([p])) for p in explanation.patches], 1)
    return BreachResult(
        patch=patch, patches=list(explanation.patches), steps=list(labels),
        rmse_patch=_rmse_batch(images, ref, grid.mask([patch])),
        rmse_others=_rmse_batch(images, ref, grid.mask(others)) if others else np.full(len(labels) + 1, np.nan),
        rmse_outside=_rmse_batch(images, ref, ~grid.mask(explanation.patches)),
        rmse_each=each, images=images)


def boundary_breach(explanation: Explanation, patch: int, k: Optional[int] = None) -> BreachResult:
    """Sec. 3.2.2: add, in order of ``‖I(S)‖₂``, the components with ``patch ∉ S`` (all, or the
    first ``k``) to ``b``; track the RMSE of ``patch`` and of the others against ``g(b)``.  The
    patch should stay near 0 while the others grow.  Choice: "the others" are ``N ∖ {i}``."""
    patch = int(patch)
    bit = explanation.subset([patch])
    comps = explanation.components()
    picked = [c for c in comps if not c.subset & bit][:k]
    vecs = torch.stack([c.vector for c in picked]) if picked else torch.zeros(0, explanation.baseline.numel())
    return _breach(explanation, patch, vecs, [c.subset for c in picked])


# ---------------------------------------------------------------------------------- Sec. 3.3
@dataclass
class ConsistencyResult:
    """Sec. 3.3 / Fig. 7: the pattern of one component on top of different contexts ``T``.

    ``patterns[0] = p^∅`` (on ``b``), ``patterns[j+1] = p^{T_j}``; ``values[j]`` the inconsistency
    ``‖clip_A(p^{T_j} − p^∅)‖₂ / ‖clip_A(p^∅)‖₂``; ``mean`` their average.
    """

    subset: int
    field: list[int]
    contexts: list[int]
    values: np.ndarray
    patterns: Tensor

    @property
    def mean(self) -> float:
        """The inconsistency averaged over the contexts ``T``."""
        return float(np.mean(self.values)) if len(self.values) else float("nan")


def _context_subsets(n: int, forbidden: int, max_contexts: Optional[int], seed: int) -> list[int]:
    free = ((1 << n) - 1) & ~forbidden
    ctx = [t for t in range(1, 1 << n) if not t & ~free]
    if max_contexts is not None and len(ctx) > max_contexts:
        rng = np.random.default_rng(seed)
        ctx = sorted(rng.choice(ctx, size=max_contexts, replace=False).tolist())
    return ctx


def _inconsistency(explanation: Explanation, vector: Tensor, field: list[int], contexts: Tensor) -> tuple[np.ndarray, Tensor]:
    """``contexts`` ``(m, d)`` features; returns per-context values and the patterns."""
    b = explanation.baseline
    v = vector.float()
    feats = torch.cat([b.unsqueeze(0), (b + v).unsqueeze(0), contexts.float(), contexts.float() + v])
    imgs = explanation.render(feats)
    m = contexts.shape[0]
    p0 = imgs[1] - imgs[0]
    pt = imgs[2 + m:] - imgs[2:2 + m]
    mask = explanation.grid.mask(field).to(imgs.device)
    ref = float((p0 * mask).double().norm())
    num = ((pt - p0.unsqueeze(0)) * mask).double().flatten(1).norm(dim=1).numpy()
    values = num / ref if ref > 0 else np.full(m, np.nan)
    return values, torch.cat([p0.unsqueeze(0), pt])


def inconsistency(explanation: Explanation, S: SubsetLike, max_contexts: Optional[int] = None,
                  seed: int = 0, keep: Optional[Iterable[int]] = None) -> ConsistencyResult:
    """Sec. 3.3: ``p_S^T = g(b + Σ_{S'∩T≠∅} I(S') + I(S)) − g(b + Σ_{S'∩T≠∅} I(S'))`` for every
    non-empty ``T ⊆ N ∖ S`` (or ``max_contexts`` of them, seeded), compared with ``p_S^∅`` inside
    ``A(S)``.  ``keep``: the components the context sums over (default all, so the context is
    exactly ``f_T``, Eq. 7).  Raises ``ValueError`` when ``S = N`` (no disjoint context)."""
    s = explanation.subset(S)
    if s == 0:
        raise ValueError("the empty set has no component")
    ctx = _context_subsets(explanation.n, s, max_contexts, seed)
    if not ctx:
        raise ValueError("S covers every selected patch: there is no context T disjoint from it")
    recon = explanation.reconstruct(keep)
    values, patterns = _inconsistency(explanation, explanation.component(s), explanation.subset_patches(s),
                                      recon[ctx])
    return ConsistencyResult(s, explanation.subset_patches(s), ctx, values, patterns)


# ---------------------------------------------------------------------------------- Table 1
@dataclass
class Decomposition:
    """Any decomposition of ``f_N − b`` into vectors with claimed action fields, scored by the
    same metrics as the feature components (Table 1, "going further": DESIGN.md §2).

    ``vectors`` ``(k, d)`` sorted by L2 norm (descending); ``fields[j]`` the patch ids of
    component ``j``'s action field; ``explanation`` supplies ``b``, ``f_N``, ``N``, the grid and
    the renderer.  Build one with :func:`decomposition_from_explanation` or
    :func:`pca_decomposition`.
    """

    name: str
    vectors: Tensor
    fields: list[tuple[int, ...]]
    explanation: Explanation

    @property
    def norms(self) -> np.ndarray:
        """``‖v_j‖₂`` per component."""
        return self.vectors.double().norm(dim=1).numpy()

    def __len__(self) -> int:
        return self.vectors.shape[0]


def decomposition_from_explanation(explanation: Explanation, top: Optional[int] = None) -> Decomposition:
    """The feature components ``I(S)`` (top ``top`` by norm, default all) with ``A(S) = S``."""
    comps = explanation.components(top=top)
    vecs = torch.stack([c.vector for c in comps]) if comps else torch.zeros(0, explanation.baseline.numel())
    return Decomposition("OR components", vecs, [c.patches for c in comps], explanation)


def pca_directions(explainer: Explainer, k: int = 20, num_samples: int = 500, seed: int = 1,
                   batch: int = 100) -> Tensor:
    """GANSpace-style baseline: the top-``k`` principal directions ``(k, d)`` (unit rows) of the
    split layer's feature over ``num_samples`` random codes, centred at the baseline ``b``
    (= the feature mean).  Uses a seeded randomised SVD (:func:`torch.pca_lowrank`)."""
    gen = explainer.generator
    rng = torch.Generator().manual_seed(int(seed))
    rows = []
    with torch.no_grad():
        for i in range(0, num_samples, batch):
            codes = gen.sample_codes(min(batch, num_samples - i), rng).to(explainer.device)
            rows.append(gen.head(codes).reshape(codes.shape[0], -1).cpu())
    x = torch.cat(rows) - explainer.baseline.detach().cpu()
    torch.manual_seed(int(seed))
    q = min(k + 10, *x.shape)
    _, _, v = torch.pca_lowrank(x, q=q, center=False)
    return v[:, :k].T.contiguous().float()


def pca_decomposition(explanation: Explanation, directions: Tensor,
                      field_sizes: Union[int, Sequence[int], None] = None) -> Decomposition:
    """``f_N − b`` projected on PCA ``directions`` (unit rows): components ``c_j v_j`` with
    ``c_j = ⟨f_N − b, v_j⟩``, sorted by ``|c_j|``.

    PCA directions claim no action field, so one is assigned from the component's own regional
    pattern ``g(f_N) − g(f_N − c_j v_j)`` (choice): its L1 mass per selected patch, and the
    ``field_sizes[j]`` patches of ``N`` with the most mass (pass the sizes of the components you
    compare with for a size-matched test); default: the patches holding more than the average
    patch mass.  Assigning fields after looking favours the baseline on ρ and breach.
    """
    b = explanation.baseline.double()
    f_n = explanation.minimal_feature(explanation.full).double()
    dirs = directions.double()
    coef = dirs @ (f_n - b)
    order = torch.argsort(coef.abs(), descending=True, stable=True)
    vecs = (coef[order].unsqueeze(1) * dirs[order]).float()
    imgs = explanation.render(torch.cat([f_n.float().unsqueeze(0), f_n.float().unsqueeze(0) - vecs]))
    patterns = (imgs[:1] - imgs[1:]).double().abs().sum(1)  # (k, H, W)
    pmasks = explanation.grid.patch_masks(explanation.patches).to(patterns.device)
    mass = torch.einsum("khw,phw->kp", patterns, pmasks.double())  # (k, n)
    if isinstance(field_sizes, int):
        field_sizes = [field_sizes] * len(vecs)
    fields = []
    for j in range(len(vecs)):
        ranked = torch.argsort(mass[j], descending=True, stable=True).tolist()
        if field_sizes is None:
            m = max(1, int((mass[j] > mass[j].mean()).sum()))
        else:
            m = int(field_sizes[min(j, len(field_sizes) - 1)])
        fields.append(tuple(sorted(explanation.patches[i] for i in ranked[:m])))
    return Decomposition("PCA directions", vecs, fields, explanation)


def completeness_residual(decomp: Decomposition) -> float:
    """Axiom 1: ``‖(f_N − b) − Σ_j v_j‖₂ / ‖f_N − b‖₂`` (0 = complete)."""
    e = decomp.explanation
    total = e.minimal_feature(e.full).double() - e.baseline.double()
    rest = total - decomp.vectors.double().sum(0)
    denom = float(total.norm())
    return float(rest.norm()) / denom if denom > 0 else float("nan")


def decomposition_rho(decomp: Decomposition) -> np.ndarray:
    """``ρ`` of Sec. 3.2.1 for every component of a decomposition (pattern ``g(f_N) − g(f_N − v_j)``)."""
    e = decomp.explanation
    if len(decomp) == 0:
        return np.zeros(0)
    f_n = e.minimal_feature(e.full).float().unsqueeze(0)
    imgs = e.render(torch.cat([f_n, f_n - decomp.vectors.float()]))
    return _share_inside(imgs[:1] - imgs[1:], torch.stack([e.grid.mask(fl) for fl in decomp.fields]))


def decomposition_breach(decomp: Decomposition, patch: int) -> BreachResult:
    """Sec. 3.2.2 on a decomposition: its components whose field excludes ``patch``, in order."""
    idx = [j for j, fl in enumerate(decomp.fields) if int(patch) not in fl]
    vecs = decomp.vectors[idx] if idx else torch.zeros(0, decomp.vectors.shape[1])
    return _breach(decomp.explanation, int(patch), vecs, idx)


def decomposition_inconsistency(decomp: Decomposition, j: int, max_contexts: Optional[int] = None,
                                seed: int = 0) -> ConsistencyResult:
    """Sec. 3.3 on a decomposition: the context of ``T`` is ``b`` plus the decomposition's own
    components whose field meets ``T`` (for the OR components with all of them: ``f_T``)."""
    e = decomp.explanation
    field_bits = e.subset(decomp.fields[j])
    ctx = _context_subsets(e.n, field_bits, max_contexts, seed)
    if not ctx:
        raise ValueError("the component's field covers every selected patch: no disjoint context")
    bits = [e.subset(fl) for fl in decomp.fields]
    b = e.baseline.double()
    feats = []
    for t in ctx:
        sel = [i for i, fb in enumerate(bits) if fb & t]
        feats.append(b + (decomp.vectors[sel].double().sum(0) if sel else 0.0))
    values, patterns = _inconsistency(e, decomp.vectors[j], list(decomp.fields[j]), torch.stack(feats))
    return ConsistencyResult(field_bits, list(decomp.fields[j]), ctx, values, patterns)


def decomposition_transferability(a: Decomposition, b: Decomposition, k_a: int = 20, k_b: int = 100) -> TransferResult:
    """Sec. 3.4 on decompositions: fields of ``a``'s top-``k_a`` found among ``b``'s top-``k_b``."""
    _same_positions(a.explanation, b.explanation)
    top_a = [frozenset(fl) for fl in a.fields[:k_a]]
    top_b = [frozenset(fl) for fl in b.fields[:k_b]]
    set_b = set(top_b)
    matched = [x for x in top_a if x in set_b]
    total = a.explanation.num_subsets - 1
    return TransferResult(len(matched) / max(1, len(top_a)), top_a, top_b, matched, len(top_a), len(top_b),
                          min(k_b, total) / max(1, total))


@dataclass
class PropertyScores:
    """One row of the measured Table 1 (lower is better except ``rho_mean`` and ``transfer``)."""

    name: str
    components: int
    completeness_residual: float
    rho_mean: float
    rho_chance: float
    inconsistency_mean: float
    breach_ratio_mean: float
    transfer: float

    def as_dict(self) -> dict:
        """The row as a plain dict (for tables)."""
        return dict(self.__dict__)


def score_properties(decomp: Decomposition, other: Optional[Decomposition] = None, top: int = 5,
                     max_contexts: Optional[int] = 7, k_a: Optional[int] = None,
                     k_b: Optional[int] = None) -> PropertyScores:
    """Table 1, measured: completeness residual, mean ``ρ`` over the top ``top`` components (and
    its chance level, the mean field area), mean inconsistency over those whose field leaves a
    context, mean breach ratio over the patches of ``N``, and transferability to ``other`` (a
    decomposition of another image over the same patches; ``k_a``/``k_b`` default to ``top`` and
    ``2·top``)."""
    e = decomp.explanation
    head = Decomposition(decomp.name, decomp.vectors[:top], decomp.fields[:top], e)
    rho = decomposition_rho(head)
    chance = float(np.mean([float(e.grid.mask(fl).double().mean()) for fl in head.fields])) if len(head) else float("nan")
    inc = [decomposition_inconsistency(decomp, j, max_contexts=max_contexts).mean
           for j in range(len(head)) if len(head.fields[j]) < e.n]
    breach = [decomposition_breach(decomp, p).breach_ratio for p in e.patches]
    transfer = float("nan")
    if other is not None:
        transfer = decomposition_transferability(decomp, other, k_a or top, k_b or 2 * top).ratio
    return PropertyScores(decomp.name, len(decomp), completeness_residual(decomp), float(np.nanmean(rho)),
                          chance, float(np.nanmean(inc)) if inc else float("nan"),
                          float(np.nanmean(breach)), transfer)


# ---------------------------------------------------------------------------------- Table 2, toy truth
def solver_summary(explanation: Explanation) -> dict[str, float]:
    """Table 2 columns for one solved explanation, over the subsets ``T ≠ ∅``: mean final
    ``mse``, share feasible (every patch of T within ε), mean iterations, and ``sparsity`` = mean
    ``‖f_T − b‖₁ / ‖f − b‖₁`` (how much of the full feature change each minimal feature keeps;
    choice, lower = more minimal)."""
    feats = explanation.minimal_features().double()
    b = explanation.baseline.double()
    full = float((explanation.feature.double() - b).abs().sum())
    keep = ((feats[1:] - b).abs().sum(1) / full).numpy() if full > 0 else np.full(explanation.num_subsets - 1, np.nan)
    return {"mse": float(np.mean(explanation.mse[1:])), "feasible": float(np.mean(explanation.feasible[1:])),
            "iterations": float(np.mean(explanation.iterations[1:])), "sparsity": float(np.mean(keep)),
            "epsilon": float(explanation.epsilon)}


def object_share(explanation: Explanation, top: int = 5, min_cover: float = 0.25) -> dict:
    """Toy-scenes ground truth: how much of the top-``top`` components' action fields lies on
    true objects.  A patch is an *object patch* when the union of the sample's object masks
    covers at least ``min_cover`` of its pixels.  Returns ``share`` (object patches among all
    patch memberships of the top fields), ``chance`` (object patches among ``N``),
    ``object_patches`` and ``fields``.  Needs a sample with ``object_masks``."""
    masks = explanation.sample.object_masks
    if masks is None:
        raise ValueError("this sample has no ground-truth object masks (use the 'toy-scenes' model)")
    union = masks.reshape(-1, *masks.shape[-2:]).any(0).cpu()
    grid = explanation.grid
    obj = [p for p in explanation.patches if float(union[grid.mask([p])].float().mean()) >= min_cover]
    fields = [c.patches for c in explanation.components(top=top)]
    members = [p for fl in fields for p in fl]
    share = float(np.mean([p in obj for p in members])) if members else float("nan")
    return {"share": share, "chance": len(obj) / explanation.n, "object_patches": obj, "fields": fields}
