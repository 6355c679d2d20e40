"""Controllable and sequential reconstruction (App. F, Figs. 11–12): add the components whose
action field meets a target patch set to the baseline ``b`` in order of ``‖I(S)‖₂`` and render
after each step, reporting the RMSE on the target against the image (and, for the sequential
variant, patch by patch as the target grows one patch at a time).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..backend import Explanation
from ._util import _rmse, _rmse_batch


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
                                k: int | None = None) -> ReconstructionResult:
    """App. F: add, in order of ``‖I(S)‖₂`` (descending), the components whose action field
    covers part of the target ``T`` (``S ∩ T ≠ ∅``) — all of them, or the first ``k`` — to ``b``,
    rendering after each.  With all of them the last step is ``f̂_T = f_T`` (Eq. 7).
    """
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


def sequential_reconstruction(explanation: Explanation, order: Sequence[int] | None = None,
                              seed: int = 0, k: int | None = None) -> SequentialResult:
    """App. F / Figs. 11–12: reconstruct the patches of ``N`` one by one (``order``: patch ids;
    default a seeded random order).  ``k`` keeps only the ``k`` largest components (default all,
    where step ``j`` equals the minimal feature ``f_{T_j}``).
    """
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
