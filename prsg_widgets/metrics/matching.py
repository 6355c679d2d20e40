"""Top-``k`` matching error (Sec. 3.1, Fig. 4; Eq. 7 with only the ``k`` largest components):
how well ``û(T) = Σ_{S ∈ top-k, S∩T≠∅} I(S)`` mimics every minimal feature ``u(T)``.  The top-k
error itself is computed by :func:`prsg_widgets.core.health.matching_errors`, the same code
``Explanation.health()`` reports.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backend import Explanation
from ..core.health import matching_errors


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
