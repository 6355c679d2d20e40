"""Real action fields (Sec. 3.2.1): ``ρ(S)``, the share of a component's regional pattern
``Δx_S`` (Fig. 2) that falls inside its claimed action field ``A(S)``, and its chance level, the
pixel share of ``A(S)`` (choice: the paper gives only ``ρ``).  :func:`_share_inside` is the one
definition of the ratio, also used for decompositions (:mod:`.decomposition`).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from torch import Tensor

from ..backend import Explanation
from ._util import SubsetLike


def real_action_field_ratios(explanation: Explanation, subsets: Sequence[SubsetLike]) -> np.ndarray:
    """Sec. 3.2.1, batched: ``ρ(S) = ‖clip_{A(S)}(Δx_S)‖₁ / ‖Δx_S‖₁`` for each ``S`` (pixel-wise,
    all channels), with ``Δx_S`` the regional pattern of Fig. 2.  ``nan`` where ``Δx_S = 0``.
    """
    ss = [explanation.subset(s) for s in subsets]
    if not ss:
        return np.zeros(0)
    patterns = explanation.regional_patterns(ss)
    return _share_inside(patterns, explanation.grid.subset_masks(explanation.patches, ss))


def _share_inside(patterns: Tensor, masks: Tensor) -> np.ndarray:
    """``‖clip_A(Δx)‖₁ / ‖Δx‖₁`` per pattern ``(k, C, H, W)`` and field mask ``(k, H, W)``; NaN for
    an all-zero pattern.
    """
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
    image would get (the chance level to compare ``ρ`` with).
    """
    grid = explanation.grid
    ss = [explanation.subset(s) for s in subsets]
    masks = grid.subset_masks(explanation.patches, ss)
    return masks.flatten(1).double().mean(1).numpy()
