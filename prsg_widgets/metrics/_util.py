"""Private helpers shared by the metric modules: the subset type every metric accepts and the
RMSE "over a patch set" of the package docstring (``sqrt(Σ (a − b)² / (#pixels · C))``, the root
of the solver's ``mse_T``, so ``RMSE ≤ sqrt(ε)`` means "as good as the solver's tolerance").
Nothing here is public API; import the metrics from :mod:`prsg_widgets.metrics`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from torch import Tensor

SubsetLike = int | Iterable[int]
"""A subset: an int bitmask over ``explanation.patches`` (bit i ⇔ ``patches[i]``) or patch ids."""


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
