"""Transferability (Sec. 3.4): the share of image a's top-``k_a`` action fields found among
image b's top-``k_b`` (paper: 20 / 100 of 511), with its chance level ``k_b / (2^n − 1)``.
Both explanations must be over the same patch positions; :func:`_same_positions` checks that
(also for decompositions, :mod:`.decomposition`).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..backend import Explanation


@dataclass
class TransferResult:
    """Sec. 3.4: action fields of the top-``k_a`` components of image a found among those of the
    top-``k_b`` components of image b (action fields as frozensets of patch ids).
    """

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
    # each explanation's own grid (from its metadata): loaded, unbound explanations are checked too
    ga, gb = expl_a.grid, expl_b.grid
    if ga != gb:
        raise ValueError(f"the two explanations use different patch grids ({ga} vs {gb}); patch ids "
                         "mean different regions")


def transferability(expl_a: Explanation, expl_b: Explanation, k_a: int = 20, k_b: int = 100) -> TransferResult:
    """Sec. 3.4: ``|A_a ∩ A_b| / k_a`` where ``A_a`` are the action fields of image a's top-``k_a``
    components (by ``‖I(S)‖₂``) and ``A_b`` those of image b's top-``k_b`` (paper: 20 / 100 of
    511; pass ``k_a == k_b`` for the symmetric version).  ``k`` larger than the number of
    non-empty components (``2^n − 1``) is cut to it; ``ratio`` divides by the cut ``k_a``.
    Raises ``ValueError`` unless both explanations are over the same patch positions.
    """
    _same_positions(expl_a, expl_b)
    top_a = [frozenset(c.patches) for c in expl_a.components(top=k_a)]
    top_b = [frozenset(c.patches) for c in expl_b.components(top=k_b)]
    set_b = set(top_b)
    matched = [a for a in top_a if a in set_b]
    total = expl_a.num_subsets - 1
    return TransferResult(ratio=len(matched) / max(1, len(top_a)), top_a=top_a, top_b=top_b,
                          matched=matched, k_a=len(top_a), k_b=len(top_b),
                          chance=min(k_b, total) / max(1, total))
