"""One optimiser step of some rows: keep the best feasible iterate, decide who stops, move the rest.

Stopping rules (``docs/solver.md`` has the measurements behind them):

* **Bound stop.**  A subset starts on its floor — the union bound ``max_i m_{T∖i}`` when nested,
  ``m = 0`` otherwise — and never goes below it; the L1 term only grows above the floor, so when
  the floor already puts every patch within ε it *is* the minimum: the subset stops after one
  evaluation.  With a fixed patience the same subset ran 30 more steps to learn nothing.
* **Convergence.**  Once feasible, a subset stops when its objective has not improved by a
  fraction ``rel_tol`` for ``patience`` steps (15 in the CPU presets: on three face images at
  n = 6 it returned exactly the features of 0.2.0's 30, with 14% fewer subset-iterations).
* **Polish.**  A subset that stopped after climbing goes back to its best feasible iterate and
  runs ``polish`` sign steps whose size halves at every sign flip (Rprop): a constant Adam step
  circles the tolerance boundary about one step away; the polish settles each element on the
  boundary of the patches it serves, so subsets that share a patch agree on what it needs.
* **Rescue.**  A start from 0 can stall below the constraint; a subset never feasible when its
  violation stopped falling (or its budget ran out) restarts once from ``m = 1``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

from .config import SolverConfig
from .objective import Evaluation
from .pool import Rows


@dataclass
class Decision:
    """What a step decided: rows that stop now, rows that restart from ``m = 1``, and the step count."""

    finished: Tensor
    rescue: Tensor | None
    step: Tensor


def record(rows: Rows, ev: Evaluation, live: Tensor, config: SolverConfig) -> Decision:
    """Update the best feasible iterate and the stall counters of ``rows`` after evaluation ``ev``
    of their current ``m``, and decide who stops (returned; ``rows`` is updated in place).
    A subset that stops after climbing enters the polish (``rows.phase`` > 0) instead, when
    ``config.polish`` > 0; a polishing subset stops after ``config.polish`` line-search steps.
    """
    polishing = rows.phase > 0
    better = ev.feasible & (ev.obj < rows.best_obj * (1 - config.rel_tol))
    # a barely better one still replaces the best; while polishing, the latest feasible iterate
    # does: the annealed steps settle each patch's elements on its own boundary, which a choice
    # by the summed objective would trade between patches
    replace = ev.feasible & ((ev.obj < rows.best_obj) | polishing)
    if replace.any():
        col = replace.unsqueeze(1)
        rows.best_m = torch.where(col, rows.m, rows.best_m)
        rows.best_obj = torch.where(replace, ev.obj, rows.best_obj)
        rows.best_mse = torch.where(replace, ev.mse, rows.best_mse)
        rows.best_pmse = torch.where(col, ev.pmse, rows.best_pmse)
        rows.best_sp = torch.where(replace, ev.sparsity, rows.best_sp)
    step = rows.step + 1
    rows.stall = torch.where(better, torch.zeros_like(rows.stall), rows.stall + 1)
    vbetter = ev.violation < rows.best_viol * (1 - config.rel_tol)
    rows.vstall = torch.where(vbetter, torch.zeros_like(rows.vstall), rows.vstall + 1)
    rows.best_viol = torch.minimum(rows.best_viol, ev.violation)
    spent = step - rows.t0  # a budget per start: a rescued subset gets a fresh one
    ever = torch.isfinite(rows.best_obj)
    rescue = None
    if config.restart:
        rescue = ~ever & ~rows.restarted & live & ~polishing
        rescue &= (rows.vstall >= config.patience) | (spent >= config.iterations)
        if not rescue.any():
            rescue = None
    done = (spent >= config.iterations) & live
    if config.early_stop:
        done |= ever & (rows.stall >= config.patience) & live
    bound = torch.zeros_like(done)
    if config.bound_stop and (config.nested or config.init == 0):
        # feasible at its first step on its floor (the union bound, or m = 0): that is the minimum
        bound = ev.feasible & (step == 1) & ~rows.restarted & live
    if rescue is not None:
        done &= ~rescue
    done &= ~polishing
    if config.polish > 0:
        start = done & ever & ~bound  # stopped after climbing: polish before leaving
        finished = (done & ~start) | bound | (polishing & (rows.phase > config.polish) & live)
        rows.phase = torch.where(polishing, rows.phase + 1, rows.phase)
        rows.phase = torch.where(start, torch.ones_like(rows.phase), rows.phase)
    else:
        finished = done | bound
    rows.step = step
    return Decision(finished, rescue, step)


def needs_fp32(rows: Rows) -> Tensor:
    """Mixed precision: the rows whose next evaluation decides an answer, so runs in fp32 — the
    first one on the floor (the bound stop), the polish, a final check, and rows that failed one
    (:mod:`.precision`).
    """
    return (rows.step == 0) | (rows.phase > 0) | rows.verify | rows.exact


def hand_over(rows: Rows, ev: Evaluation, decision: Decision, exact: Tensor, config: SolverConfig) -> Tensor:
    """Mixed precision, after :func:`record`: a subset leaves only on an fp32 evaluation (``exact``).

    * A row that :func:`record` stopped on a bf16 evaluation stays: its chosen mask (the best
      feasible iterate, else its last) is checked in fp32 at the next step, unmoved — the
      returned rows, whose step the caller undoes.
    * A checked row leaves when every patch is within ε in fp32; else it polishes in fp32 (from
      that mask), or, with no polish in the preset, goes on with Adam in fp32 (no rescue: a
      budget as an fp32 solve's).
    * A row that began its polish on a bf16 evaluation keeps its start, but only fp32-feasible
      iterates of the polish may be its answer.

    ``decision.finished`` and ``rows`` are updated in place.
    """
    fin = decision.finished
    checked = rows.verify
    if checked.any():
        ok = checked & ev.feasible
        failed = checked & ~ev.feasible
        if config.polish > 0:
            fin = torch.where(checked, ok, fin)
            phase = torch.where(ok, torch.zeros_like(rows.phase), rows.phase)
            rows.phase = torch.where(failed, torch.ones_like(phase), phase)
        else:
            fin = fin | ok  # a failed check leaves only when its budget is spent
        rows.exact = rows.exact | failed
        rows.stall = torch.where(failed, torch.zeros_like(rows.stall), rows.stall)
        rows.verify = rows.verify & ~checked
    quick = ~exact
    hold = fin & quick
    if hold.any():
        fin = fin & ~hold
        col = hold.unsqueeze(1)
        chosen = torch.where(torch.isfinite(rows.best_obj).unsqueeze(1), rows.best_m, rows.m)
        rows.m = torch.where(col, chosen, rows.m)
        rows.best_m = torch.where(col, chosen, rows.best_m)
        rows.best_obj = torch.where(hold, torch.full_like(rows.best_obj, math.inf), rows.best_obj)
        rows.restarted = rows.restarted | hold
        rows.verify = rows.verify | hold
    started = quick & (rows.phase == 1)
    rows.best_obj = torch.where(started, torch.full_like(rows.best_obj, math.inf), rows.best_obj)
    decision.finished = fin
    return hold


def adam_step(rows: Rows, grad: Tensor, decision: Decision, config: SolverConfig) -> None:
    """Projected Adam on ``rows.m``: the step, then the box ``[lower, 1]`` (``lower`` = 0 when not
    nested); polishing rows take a sign step instead (:func:`_rprop`); rescued rows restart from
    ``m = 1`` with fresh moments and budget.
    """
    b1, b2 = config.betas
    # in place, op for op as ``m − lr·(m1/c1)/(√(m2/c2) + 1e-8)`` out of place: the rows are the
    # pool's copies (SlotPool.gather), and the same ops round alike
    rows.m1.mul_(b1).add_(grad, alpha=1 - b1)
    rows.m2.mul_(b2).addcmul_(grad, grad, value=1 - b2)
    t = (decision.step - rows.t0).long()
    c1 = _bias_correction(b1, t).unsqueeze(1)
    c2 = _bias_correction(b2, t).unsqueeze(1)
    denom = torch.div(rows.m2, c2).sqrt_().add_(1e-8)
    m = torch.div(rows.m1, c1).mul_(config.lr).div_(denom)
    m = torch.sub(rows.m, m, out=m).clamp_(0, 1)
    if config.nested:
        m = torch.maximum(m, rows.lower, out=m)
    polishing = rows.phase > 0
    if polishing.any():
        m = torch.where(polishing.unsqueeze(1), _rprop(rows, grad, config), m)
    rescue = decision.rescue
    if rescue is not None:
        col = rescue.unsqueeze(1)
        m = torch.where(col, torch.ones_like(m), m)
        rows.m1 = torch.where(col, torch.zeros_like(rows.m1), rows.m1)
        rows.m2 = torch.where(col, torch.zeros_like(rows.m2), rows.m2)
        rows.t0 = torch.where(rescue, decision.step, rows.t0)
        rows.restarted = rows.restarted | rescue
        rows.vstall = torch.where(rescue, torch.zeros_like(rows.vstall), rows.vstall)
        rows.best_viol = torch.where(rescue, torch.full_like(rows.best_viol, math.inf), rows.best_viol)
    rows.m = m


def _bias_correction(beta: float, t: Tensor) -> Tensor:
    """``1 − beta^t`` for each row, read from a table made with Python floats.  (``beta ** t`` on a
    tensor rounds differently in a vector lane and in the loop's scalar tail, so a row's value
    would depend on how many rows are solved with it — and a resumed solve would differ in the
    last bit.)
    """
    top = int(t.max()) + 1 if t.numel() else 1
    size = 512
    while size < top:
        size *= 2
    return _power_table(beta, size).to(t.device)[t]


@lru_cache(maxsize=16)
def _power_table(beta: float, size: int) -> Tensor:
    return torch.tensor([1.0 - beta ** k for k in range(size)], dtype=torch.float32)


def _rprop(rows: Rows, grad: Tensor, config: SolverConfig) -> Tensor:
    """The polish step (iRprop−, per element): the step grows ×1.2 while the gradient keeps its
    sign and halves when it flips, skipping that step.  Each element's oscillation across the
    boundary of the patch it serves shrinks geometrically, so it settles there — where Adam, whose
    second moment remembers the penalty's spikes, crawls.  At its first phase the row goes back
    to its best feasible iterate with a step of ``lr / 2``.
    """
    first = (rows.phase == 1).unsqueeze(1)
    sign = torch.sign(grad)
    flip = sign * rows.gsign
    eta = torch.where(flip > 0, rows.eta * 1.2, torch.where(flip < 0, rows.eta * 0.5, rows.eta))
    eta = eta.clamp(1e-7, config.lr)
    sign = torch.where(flip < 0, torch.zeros_like(sign), sign)
    m = (rows.m - eta * sign).clamp_(0, 1)
    if config.nested:
        m = torch.maximum(m, rows.lower)
    rows.eta = torch.where(first, torch.full_like(eta, config.lr / 2), eta)
    rows.gsign = torch.where(first, torch.zeros_like(sign), sign)
    return torch.where(first, rows.best_m, m)
