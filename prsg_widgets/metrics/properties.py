"""One row of the measured Table 1: a decomposition scored on every property at once —
completeness residual, mean ``ρ`` and its chance level, mean inconsistency, mean breach ratio and
transferability — from the per-decomposition metrics of :mod:`.decomposition`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .decomposition import (
    Decomposition,
    completeness_residual,
    decomposition_breach,
    decomposition_inconsistency,
    decomposition_rho,
    decomposition_transferability,
)


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


def score_properties(decomp: Decomposition, other: Decomposition | None = None, top: int = 5,
                     max_contexts: int | None = 7, k_a: int | None = None,
                     k_b: int | None = None) -> PropertyScores:
    """Table 1, measured: completeness residual, mean ``ρ`` over the top ``top`` components (and
    its chance level, the mean field area), mean inconsistency over those whose field leaves a
    context, mean breach ratio over the patches of ``N``, and transferability to ``other`` (a
    decomposition of another image over the same patches; ``k_a``/``k_b`` default to ``top`` and
    ``2·top``).
    """
    e = decomp.explanation
    head = Decomposition(decomp.name, decomp.vectors[:top], decomp.fields[:top], e)
    rho = decomposition_rho(head)
    chance = (float(np.mean([float(e.grid.mask(fl).double().mean()) for fl in head.fields])) if len(head)
              else float("nan"))
    inc = [decomposition_inconsistency(decomp, j, max_contexts=max_contexts).mean
           for j in range(len(head)) if len(head.fields[j]) < e.n]
    breach = [decomposition_breach(decomp, p).breach_ratio for p in e.patches]
    transfer = float("nan")
    if other is not None:
        transfer = decomposition_transferability(decomp, other, k_a or top, k_b or 2 * top).ratio
    return PropertyScores(decomp.name, len(decomp), completeness_residual(decomp), float(np.nanmean(rho)),
                          chance, float(np.nanmean(inc)) if inc else float("nan"),
                          float(np.nanmean(breach)), transfer)
