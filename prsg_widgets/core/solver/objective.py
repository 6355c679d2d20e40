"""The objective of Eq. 10 and its gradient, evaluated block by block.

    obj(m) = ‖m ⊙ (f − b)‖₁ / d  +  λ · Σ_{i ∈ T} relu(mse_i − (1 − margin)·ε)

``mse_i`` is patch ``i``'s own error, so a subset is feasible when every one of its patches is
within ε (``constraint="patch"``); ``constraint="mean"`` puts one mse over all of T's pixels
instead.  Everything — the tail, the per-patch errors, the L1 term, the gradient — is computed
on blocks of exactly ``unit`` rows (the live rows packed, the last block padded): a row's result
then never depends on how many other rows are being solved, so a subset's ``f_T`` is the same
whichever subsets share its batch, and a resumed solve equals an uninterrupted one bit for bit.
(A reduction over a ``(rows, d)`` tensor may split its work differently when the number of rows
changes, and so round differently.)
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields

import torch
from torch import Tensor

from .config import SolverConfig


@dataclass
class Evaluation:
    """One evaluation of some rows: the objective, its parts, and the gradient in ``m``."""

    obj: Tensor          # (k,)
    sparsity: Tensor     # (k,) the L1 term ‖m ⊙ (f − b)‖₁ / d
    pmse: Tensor         # (k, n) each patch's mse
    mse: Tensor          # (k,) mse over all of T's pixels
    violation: Tensor    # (k,)
    feasible: Tensor     # (k,) bool: every patch of T within ε (or the mean, for "mean")
    grad: Tensor         # (k, d)

    def rows(self, keep: Tensor | slice) -> Evaluation:
        """The evaluation of the rows ``keep`` (a bool mask, indices or a slice) only."""
        return Evaluation(*(getattr(self, f.name)[keep] for f in fields(self)))


def subset_membership(subsets, n: int, dtype=torch.float32, device=None) -> Tensor:
    """``(k, n)`` 0/1 matrix: row ``j`` has a 1 at bit ``i`` of ``subsets[j]``."""
    bits = torch.as_tensor([int(s) for s in subsets], dtype=torch.long, device=device)
    return ((bits.unsqueeze(1) >> torch.arange(n, device=device)) & 1).to(dtype)


def worst_patch_mse(patch_mse: Tensor) -> Tensor:
    """The largest per-patch mse of each row of ``(k, n)`` (``nan`` = patch not in T; 0 for ∅)."""
    if patch_mse.shape[1] == 0:
        return torch.zeros(patch_mse.shape[0], dtype=patch_mse.dtype, device=patch_mse.device)
    return patch_mse.nan_to_num(nan=-math.inf).max(1).values.clamp_min(0)


class Objective:
    """Eq. 10 for one explanation: the tail, ``b``, ``f − b``, the target image and patch masks."""

    def __init__(self, run_tail: Callable[[Tensor, bool], Tensor], baseline: Tensor, delta: Tensor, image: Tensor,
                 patch_masks: Tensor, config: SolverConfig, epsilon: float, unit: int, precision: str = "fp32") -> None:
        self.run_tail = run_tail
        self.bf16 = precision == "bf16"
        self.mixed = precision == "mixed"  # bf16 rows, and the rows that ``evaluate`` is told are exact in fp32
        self.baseline, self.delta, self.image = baseline, delta, image
        self.pmask = patch_masks.to(device=delta.device, dtype=delta.dtype)
        self.npix = self.pmask.flatten(1).sum(1) * image.shape[0]  # values per patch
        self.config = config
        self.epsilon = epsilon
        self.aim = epsilon * (1.0 - config.margin)  # aim inside ε so iterates settle within it
        self.unit = unit

    def evaluate(self, m: Tensor, member: Tensor, exact: Tensor | None = None) -> Evaluation:
        """Evaluate rows ``m`` ``(k, d)`` with their patch ``member``-ship ``(k, n)``, any ``k``.
        ``exact`` (``mixed`` precision only): the rows evaluated in fp32, the others in bf16; each
        group is packed into blocks of its own.
        """
        if exact is None or not self.mixed:
            return self._packed(m, member, self.bf16)
        fine, quick = torch.nonzero(exact).flatten(), torch.nonzero(~exact).flatten()
        if not len(quick):
            return self._packed(m, member, False)
        if not len(fine):
            return self._packed(m, member, True)
        parts = (self._packed(m[fine], member[fine], False), self._packed(m[quick], member[quick], True))
        back = torch.argsort(torch.cat([fine, quick]))
        return Evaluation(*(torch.cat([getattr(e, f.name) for e in parts])[back] for f in fields(Evaluation)))

    def _packed(self, m: Tensor, member: Tensor, bf16: bool) -> Evaluation:
        """The rows packed into blocks of ``unit``, the last one padded with copies of its last row
        (a row's result depends on the block's width, never on the other rows in it).
        """
        k = m.shape[0]
        pad = -k % self.unit
        if pad:
            m = torch.cat([m, m[-1:].expand(pad, -1)])
            member = torch.cat([member, member[-1:].expand(pad, -1)])
        u = self.unit
        parts = [self._block(m[i:i + u], member[i:i + u], bf16) for i in range(0, m.shape[0], u)]
        ev = Evaluation(*(torch.cat(p) for p in zip(*parts, strict=True)))
        return ev.rows(slice(0, k)) if pad else ev

    def _block(self, m: Tensor, member: Tensor, bf16: bool) -> tuple[Tensor, ...]:
        cfg = self.config
        with torch.enable_grad():
            ma = m.detach().clone().requires_grad_(True)
            f_t = torch.addcmul(self.baseline, ma, self.delta)
            err = (self.run_tail(f_t, bf16) - self.image).pow(2).sum(1)  # (unit, H, W)
            pmse = torch.einsum("bhw,nhw->bn", err, self.pmask) / self.npix
            weight = self.npix * member
            mse = (pmse * weight).sum(1) / weight.sum(1).clamp_min(1e-12)
            if cfg.constraint == "patch":
                violation = (torch.relu(pmse - self.aim) * member).sum(1)
            else:
                violation = torch.relu(mse - self.aim)
            sparsity = (ma * self.delta).abs().mean(1)
            obj = sparsity + cfg.lam * violation
            (grad,) = torch.autograd.grad(obj.sum(), ma)
        pmse = pmse.detach()
        if cfg.constraint == "patch":
            feasible = ((pmse <= self.epsilon) | (member == 0)).all(1)
        else:
            feasible = mse.detach() <= self.epsilon
        return (obj.detach(), sparsity.detach(), pmse, mse.detach(), violation.detach(), feasible, grad)
