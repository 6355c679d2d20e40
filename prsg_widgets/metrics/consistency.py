"""Consistency of regional patterns (Sec. 3.3, Fig. 7): the pattern a component draws on top of
different contexts ``T`` compared with the one it draws on the baseline, inside its action
field.  The contexts are all non-empty ``T ⊆ N ∖ S`` or a seeded sample (choice);
:func:`_context_subsets` and :func:`_inconsistency` are shared with :mod:`.decomposition`.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..backend import Explanation
from ._util import SubsetLike


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


def _context_subsets(n: int, forbidden: int, max_contexts: int | None, seed: int) -> list[int]:
    free = ((1 << n) - 1) & ~forbidden
    ctx = [t for t in range(1, 1 << n) if not t & ~free]
    if max_contexts is not None and len(ctx) > max_contexts:
        rng = np.random.default_rng(seed)
        ctx = sorted(rng.choice(ctx, size=max_contexts, replace=False).tolist())
    return ctx


def _inconsistency(explanation: Explanation, vector: Tensor, field: list[int],
                   contexts: Tensor) -> tuple[np.ndarray, Tensor]:
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


def inconsistency(explanation: Explanation, S: SubsetLike, max_contexts: int | None = None,
                  seed: int = 0, keep: Iterable[int] | None = None) -> ConsistencyResult:
    """Sec. 3.3: ``p_S^T = g(b + Σ_{S'∩T≠∅} I(S') + I(S)) − g(b + Σ_{S'∩T≠∅} I(S'))`` for every
    non-empty ``T ⊆ N ∖ S`` (or ``max_contexts`` of them, seeded), compared with ``p_S^∅`` inside
    ``A(S)``.  ``keep``: the components the context sums over (default all, so the context is
    exactly ``f_T``, Eq. 7).  Raises ``ValueError`` when ``S = N`` (no disjoint context).
    """
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
