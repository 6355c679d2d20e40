"""``solve_minimal_features``: every subset's minimal feature ``f_T`` (Eq. 5, 9, 10), in batches.

The loop only wires the parts together: the :class:`~.schedule.SubsetQueue` says which subset
starts next, the :class:`~.pool.SlotPool` holds the state of those being solved, the
:class:`~.objective.Objective` evaluates them block by block, and :mod:`.steps` keeps the best
iterates, stops the subsets that are done and moves the others.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from tqdm.auto import tqdm

from ...defaults import DEFAULT_EXECUTION, Execution
from ..validate import check_precision
from .config import PRESETS, SolverConfig
from .objective import Objective, subset_membership, worst_patch_mse
from .pool import SlotPool
from .schedule import SubsetQueue
from .steps import adam_step, record


@dataclass
class SolveResult:
    """Per subset (rows labelled by ``subsets``, bitmasks over ``N``): ``features`` ``f_T`` ``(k, d)``;
    ``mse`` over all of T's pixels; ``patch_mse`` ``(k, n)`` of each patch (``nan`` for patches not
    in ``T``); ``max_patch_mse``, the worst patch; ``feasible`` = every patch of ``T`` within ε;
    ``iterations`` used; and the L1 term ``sparsity`` ``‖m ⊙ (f−b)‖₁/d``.
    """

    subsets: Tensor
    features: Tensor
    mse: Tensor
    patch_mse: Tensor
    max_patch_mse: Tensor
    feasible: Tensor
    iterations: Tensor
    sparsity: Tensor


class SolveInterrupted(RuntimeError):
    """Raised when ``should_stop()`` turned true; results already emitted are kept by the caller."""


ResultCallback = Callable[[SolveResult], None]


def default_unit(device: torch.device, batch_size: int, num_subsets: int | None = None,
                 widest: int | None = None) -> int:
    """Rows per block: on the CPU 16 (as fast per subset-iteration as 32 or 64 on 2 cores), or
    fewer when a nested solve can never have more than ``widest`` subsets ready at once (the
    largest level of the lattice, C(n, ⌊n/2⌋): 6 at n = 4, where 16-row blocks were two-thirds
    padding); on a GPU the whole batch, but no more than the explanation's ``num_subsets``
    (2^n − 1) so 511 subsets never run in 1024 slots.  Depends only on the device, the batch
    size, n and the mode — never on what is pending — so results stay batch-independent.
    """
    if device.type == "cuda":
        return min(batch_size, num_subsets) if num_subsets else batch_size
    return max(1, min(batch_size, 16, widest or 16))


def estimate_batch_size(tail: Callable[[Tensor], Tensor], feature_shape: Sequence[int], device: torch.device,
                        memory_budget: int | None = None, max_batch: int = 1024) -> int:
    """How many subsets to optimise at once within a memory budget (bytes): the per-subset cost is
    measured by running the tail once and counting what autograd keeps; the default budget is
    2 GiB on the CPU and half of the free memory on a GPU.
    """
    if memory_budget is None:
        if device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(device)
            memory_budget = free // 2
        else:
            memory_budget = 2 << 30
    d = math.prod(feature_shape)
    saved = 0

    def pack(t: Tensor) -> Tensor:
        nonlocal saved
        saved += t.numel() * t.element_size()
        return t

    probe = torch.zeros(1, *feature_shape, device=device, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = tail(probe)
    per_subset = 2 * saved + 3 * out.numel() * 4 + 16 * d * 4  # activations ×2 for grads, pool state
    return int(max(1, min(max_batch, memory_budget // max(per_subset, 1))))


def _tail_runner(tail: Callable[[Tensor], Tensor], shape: tuple, device: torch.device,
                 execution: Execution) -> Callable[[Tensor], Tensor]:
    """The tail as the objective calls it: flat rows in, images out, with the execution options."""
    exec_tail = torch.compile(tail, dynamic=False) if execution.compile else tail
    to_channels_last = execution.channels_last and len(shape) == 3
    precision = execution.precision

    def run(f: Tensor) -> Tensor:
        x = f.view(f.shape[0], *shape)
        if to_channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if precision == "bf16":
            with torch.autocast(device.type, dtype=torch.bfloat16):
                return exec_tail(x).float()
        return exec_tail(x)

    return run


def _check_inputs(feature: Tensor, baseline: Tensor, image: Tensor, precision: str) -> None:
    check_precision(precision)
    if not torch.isfinite(feature).all() or not torch.isfinite(baseline).all():
        raise ValueError("the feature or the baseline contains NaN or inf; check the generator's output at the "
                         "split layer (a NaN feature cannot be explained)")
    if not torch.isfinite(image).all():
        raise ValueError("the target image contains NaN or inf; check the generator's output")


def solve_minimal_features(
    tail: Callable[[Tensor], Tensor],
    feature: Tensor,
    baseline: Tensor,
    image: Tensor,
    patch_masks: Tensor,
    subsets: Sequence[int],
    config: SolverConfig = PRESETS["fast"],
    epsilon: float | None = None,
    batch_size: int | None = None,
    feature_shape: Sequence[int] | None = None,
    progress: bool | Callable[[int, int], None] = True,
    on_result: ResultCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    known: Mapping[int, Tensor] | None = None,
    unit: int | None = None,
    execution: Execution = DEFAULT_EXECUTION,
    on_step: Callable[[dict[int, int]], None] | None = None,
) -> SolveResult:
    """Solve the minimal feature ``f_T`` (Eq. 5, 9, 10) of every subset in ``subsets``.

    ``feature`` and ``baseline`` are flattened ``(d,)``; ``image`` is ``x = g(f)`` ``(C, H, W)``;
    ``patch_masks`` ``(n, H, W)`` is the pixel mask of each patch of ``N``; ``subsets`` are int
    bitmasks over those patches (``0`` gives ``f_∅ = b`` without optimising).  With
    ``config.nested``, every maximal proper subset ``T∖{i}`` of a subset must be in ``subsets`` or
    in ``known`` (a mapping bitmask → ``f_T`` of subsets solved before).
    ``progress`` is ``True`` for a tqdm bar or a callable ``(done, total)``.  ``on_result`` is
    called with each group of finished subsets as they finish, so an interrupted solve (an
    exception, or ``should_stop()``) keeps them.  ``on_step({subset: iterations})`` is called
    once per batched iteration with the subsets in the batch and the iterations each has run
    since its (re)start — for progress displays.

    Results do not depend on the batch: everything is computed on blocks of exactly ``unit`` rows
    (default :func:`default_unit`; idle slots are padding), so a subset's ``f_T`` is the same
    whichever subsets share its batch, and a resumed solve equals an uninterrupted one.
    Deterministic on the CPU.

    ``execution`` (:class:`~prsg_widgets.defaults.Execution`: ``precision``, ``compile``,
    ``channels_last``) says how the tail runs, not what is computed.
    """
    _check_inputs(feature, baseline, image, execution.precision)
    feature = feature.reshape(-1)
    baseline = baseline.reshape(-1).to(feature)
    device, dtype, d = feature.device, feature.dtype, feature.numel()
    shape = tuple(feature_shape) if feature_shape is not None else (d,)
    n = patch_masks.shape[0]
    labels = [int(s) for s in subsets]
    k = len(labels)
    if k and (min(labels) < 0 or max(labels) >= 1 << n):
        raise ValueError(f"subset bitmasks must lie in 0..{(1 << n) - 1} for n = {n} patches")
    label_t = torch.as_tensor(labels, dtype=torch.long)
    eps = config.epsilon if epsilon is None else float(epsilon)
    delta = feature - baseline
    image = image.to(device)
    pmask = patch_masks.to(device=device, dtype=dtype)
    if n and (pmask.flatten(1).sum(1) == 0).any():
        raise ValueError("every patch mask must cover at least one pixel")
    member = subset_membership(labels, n, dtype, device)  # (k, n)
    run_tail = _tail_runner(tail, shape, device, execution)
    if batch_size is None:
        batch_size = estimate_batch_size(lambda f: tail(f.view(f.shape[0], *shape)), (d,), device)
    batch_size = max(1, int(batch_size))
    widest = math.comb(n, n // 2) if config.nested else None
    unit = default_unit(device, batch_size, (1 << n) - 1, widest) if unit is None else max(1, int(unit))
    objective = Objective(run_tail, baseline, delta, image, pmask, config, eps, unit)

    out = SolveResult(label_t, torch.empty(k, d, dtype=dtype, device=device),
                      torch.zeros(k, dtype=dtype, device=device),
                      torch.full((k, n), math.nan, dtype=dtype, device=device),
                      torch.zeros(k, dtype=dtype, device=device),
                      torch.zeros(k, dtype=torch.bool, device=device), torch.zeros(k, dtype=torch.long, device=device),
                      torch.zeros(k, dtype=dtype, device=device))
    bar = tqdm(total=k, desc="minimal features", unit="subset", leave=False) if progress is True else None
    report = progress if callable(progress) else None
    queue = SubsetQueue(labels, [j for j in range(k) if labels[j] != 0], n, config.nested, baseline, delta, known)
    done = 0

    def emit(rows: list[int], ms: Tensor, mse: Tensor, pmse: Tensor, iters: Tensor, sp: Tensor) -> None:
        nonlocal done
        idx = torch.as_tensor(rows, dtype=torch.long, device=device)
        feats = torch.addcmul(baseline, ms, delta)
        pmse = torch.where(member[idx] > 0, pmse, torch.full_like(pmse, math.nan))
        worst = worst_patch_mse(pmse)
        feas = worst <= eps
        out.features[idx], out.mse[idx], out.patch_mse[idx], out.max_patch_mse[idx] = feats, mse, pmse, worst
        out.feasible[idx], out.iterations[idx], out.sparsity[idx] = feas, iters, sp
        done += len(rows)
        for j, r in enumerate(rows):
            queue.finished(r, feats[j])
        if on_result is not None:
            on_result(SolveResult(label_t[idx.cpu()], feats, mse, pmse, worst, feas, iters, sp))
        if bar is not None:
            bar.update(len(rows))
        if report is not None:
            report(done, k)

    empty = [j for j in range(k) if labels[j] == 0]
    if empty:  # f_∅ = b exactly: the empty set is answered without optimising
        z = torch.zeros(len(empty), dtype=dtype, device=device)
        emit(empty, torch.zeros(len(empty), d, dtype=dtype, device=device), z,
             torch.full((len(empty), n), math.nan, dtype=dtype, device=device),
             torch.zeros(len(empty), dtype=torch.long, device=device), z)

    cap = -(-min(batch_size, max(len(queue), 1)) // unit) * unit  # whole blocks of `unit` rows
    pool = SlotPool(cap, d, n, dtype, device)

    def fill(slots: list[int]) -> None:
        for slot in slots:
            row = queue.take()
            if row is None:
                return
            start = {"member": member[row]}
            if config.nested:  # start on the union bound of the maximal proper subsets, never below it
                lower = queue.bound(row)
                start["lower"] = lower
                start["m"] = lower.clamp(min=config.init) if config.init > 0 else lower
            else:
                start["m"] = torch.full((d,), config.init, dtype=dtype, device=device)
            pool.reset(slot, row, **start)

    fill(pool.free())
    blocks_of = torch.arange(cap).view(-1, unit)
    try:
        while True:
            occupied = pool.busy().view(-1, unit).any(1)
            if not occupied.any():
                break
            if should_stop is not None and should_stop():
                raise SolveInterrupted(f"stopped with {len(queue) + int(pool.busy().sum())} subsets unsolved")
            # every block holding a live subset runs whole (idle slots are padding)
            act = blocks_of[occupied].flatten()
            live = pool.busy()[act].to(device)
            act = act.to(device)
            rows = pool.gather(act)
            ev = objective.evaluate(rows.m, rows.member, live)
            with torch.no_grad():
                decision = record(rows, ev, live, config)
                fin = decision.finished
                if fin.any():
                    never = ~torch.isfinite(rows.best_obj[fin])
                    col = never.unsqueeze(1)  # never feasible: report the last evaluated iterate
                    emit(pool.row[act[fin].cpu()].tolist(), torch.where(col, rows.m[fin], rows.best_m[fin]),
                         torch.where(never, ev.mse[fin], rows.best_mse[fin]),
                         torch.where(col, ev.pmse[fin], rows.best_pmse[fin]), decision.step[fin].long(),
                         torch.where(never, ev.sparsity[fin], rows.best_sp[fin]))
                    pool.release(act[fin])
                adam_step(rows, ev.grad, decision, config)
                pool.scatter(act, rows)
            if fin.any():
                fill(pool.free())  # finished subsets may unlock larger ones (nested)
            if on_step is not None:
                busy = torch.nonzero(pool.busy()).flatten()
                spent = (pool.step - pool.t0)[busy.to(device)].long().tolist()
                on_step({labels[int(pool.row[i])]: s for i, s in zip(busy.tolist(), spent, strict=True)})
    finally:
        if bar is not None:
            bar.close()
    return out
