"""Decompositions (Table 1 measured, ``docs/theory.md`` §7): any split of ``f_N − b`` into
vectors with claimed action fields, and the paper's metrics restated for one — completeness
(Axiom 1), ``ρ``, boundary breach, inconsistency and transferability — so the OR components and a
baseline (:mod:`.pca`) are scored by the same code.  One Table 1 row is :mod:`.properties`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..backend import Explanation
from .action_field import _share_inside
from .breach import BreachResult, _breach
from .consistency import ConsistencyResult, _context_subsets, _inconsistency
from .transferability import TransferResult, _same_positions


@dataclass
class Decomposition:
    """Any decomposition of ``f_N − b`` into vectors with claimed action fields, scored by the
    same metrics as the feature components (Table 1 measured, ``docs/theory.md`` §7).

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


def decomposition_from_explanation(explanation: Explanation, top: int | None = None) -> Decomposition:
    """The feature components ``I(S)`` (top ``top`` by norm, default all) with ``A(S) = S``."""
    comps = explanation.components(top=top)
    vecs = torch.stack([c.vector for c in comps]) if comps else torch.zeros(0, explanation.baseline.numel())
    return Decomposition("OR components", vecs, [c.patches for c in comps], explanation)


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


def decomposition_inconsistency(decomp: Decomposition, j: int, max_contexts: int | None = None,
                                seed: int = 0) -> ConsistencyResult:
    """Sec. 3.3 on a decomposition: the context of ``T`` is ``b`` plus the decomposition's own
    components whose field meets ``T`` (for the OR components with all of them: ``f_T``).
    """
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
