"""Boundary breach (Sec. 3.2.2, Figs. 5, 14, 15): add, one by one, the components whose action
field leaves out a patch ``i`` and watch that patch stay unchanged while the others grow.
:func:`_breach` renders the steps for any sequence of vectors (also a decomposition's,
:mod:`.decomposition`); "the others" are ``N ∖ {i}`` (choice).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..backend import Explanation
from ._util import _rmse_batch


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
        the paper does not define).
        """
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


def boundary_breach(explanation: Explanation, patch: int, k: int | None = None) -> BreachResult:
    """Sec. 3.2.2: add, in order of ``‖I(S)‖₂``, the components with ``patch ∉ S`` (all, or the
    first ``k``) to ``b``; track the RMSE of ``patch`` and of the others against ``g(b)``.  The
    patch should stay near 0 while the others grow.  Choice: "the others" are ``N ∖ {i}``.
    """
    patch = int(patch)
    bit = explanation.subset([patch])
    comps = explanation.components()
    picked = [c for c in comps if not c.subset & bit][:k]
    vecs = torch.stack([c.vector for c in picked]) if picked else torch.zeros(0, explanation.baseline.numel())
    return _breach(explanation, patch, vecs, [c.subset for c in picked])
