"""``solve_minimal_features``: every subset's minimal feature ``f_T`` (Eq. 5, 9, 10), in batches.

The loop only wires the parts together: the :class:`~.schedule.SubsetQueue` says which subset
starts next, the :class:`~.pool.SlotPool` holds the state of those being solved, the
:class:`~.objective.Objective` evaluates them block by block, and :mod:`.steps` keeps the best
iterates, stops the subsets that are done and moves the others.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import torch
from torch import Tensor
from tqdm.auto import tqdm

from ...defaults import DEFAULT_EXECUTION, Execution
from .config import PRESETS, SolverConfig
from .objective import Evaluation, Objective, subset_membership, worst_patch_mse
from .pool import Rows, SlotPool
from .precision import resolve_precision
from .rows import check_result_type, complete_rows
from .schedule import SubsetQueue, block_width, default_unit, slot_count
from .steps import Decision, adam_step, hand_over, needs_fp32, record

__all__ = ["ResultCallback", "SolveHooks", "SolveInterrupted", "SolveOptions", "SolveResult", "default_unit",
           "estimate_batch_size", "solve_minimal_features"]


@dataclass
class SolveResult:
    """Per subset (rows labelled by ``subsets``, bitmasks over ``N``): ``features`` ``f_T`` ``(k, d)``;
    ``mse`` over all of T's pixels; ``patch_mse`` ``(k, n)`` of each patch (``nan`` for patches not
    in ``T``); ``max_patch_mse``, the worst patch; ``feasible`` = every patch of ``T`` within ε;
    ``iterations`` used; and the L1 term ``sparsity`` ``‖m ⊙ (f−b)‖₁/d``.  The fields are those of
    the row schema (:data:`~.rows.ROWS`), checked at import.
    """

    subsets: Tensor
    features: Tensor
    mse: Tensor
    patch_mse: Tensor
    max_patch_mse: Tensor
    feasible: Tensor
    iterations: Tensor
    sparsity: Tensor

    @classmethod
    def from_rows(cls, rows: Mapping[str, Tensor], baseline: Tensor) -> SolveResult:
        """The result of stored rows (``subsets`` and the kept fields, e.g. a cache part read
        back); the fields a record does not keep are derived from them and the baseline ``b``.
        """
        return cls(torch.as_tensor(rows["subsets"]), **complete_rows(rows, baseline))


check_result_type(SolveResult)


class SolveInterrupted(RuntimeError):
    """Raised when ``should_stop()`` turned true; results already emitted are kept by the caller."""


ResultCallback = Callable[[SolveResult], None]


@dataclass(frozen=True)
class SolveOptions:
    """How, not what, a solve computes.

    ``batch_size``: subsets optimised at once (``None``: :func:`estimate_batch_size`); ``unit``: rows
    per block (``None``: :func:`~.schedule.block_width`).  Results do not depend on either.
    ``execution`` (:class:`~prsg_widgets.defaults.Execution`: ``precision``, ``compile``,
    ``channels_last``) says how the tail runs, not what is computed.
    """

    batch_size: int | None = None
    unit: int | None = None
    execution: Execution = DEFAULT_EXECUTION


@dataclass(frozen=True)
class SolveHooks:
    """What a solve tells its caller: ``progress`` (``True`` for a tqdm bar, or a callable
    ``(done, total)``); ``on_result`` with each group of finished subsets as they finish, so an
    interrupted solve (an exception, or ``should_stop()``) keeps them; ``on_step({subset:
    iterations})`` once per batched iteration with the subsets in the batch and the iterations
    each has run since its (re)start.
    """

    progress: bool | Callable[[int, int], None] = True
    on_result: ResultCallback | None = None
    should_stop: Callable[[], bool] | None = None
    on_step: Callable[[dict[int, int]], None] | None = None


def _split_loose(options: SolveOptions | None, hooks: SolveHooks | None,
                 loose: dict[str, Any]) -> tuple[SolveOptions, SolveHooks]:
    """``options`` and ``hooks`` with the loose keywords of the older call (``batch_size=``,
    ``on_result=``, …) put in; a keyword that is neither is a ``TypeError``, as Python's own.
    """
    names = {f.name: kind for kind in (SolveOptions, SolveHooks) for f in fields(kind)}
    unknown = sorted(set(loose) - set(names))
    if unknown:
        raise TypeError(f"solve_minimal_features() got unexpected keyword arguments {unknown}")
    options, hooks = options or SolveOptions(), hooks or SolveHooks()
    options = replace(options, **{k: v for k, v in loose.items() if names[k] is SolveOptions})
    hooks = replace(hooks, **{k: v for k, v in loose.items() if names[k] is SolveHooks})
    return options, hooks


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
                 execution: Execution) -> Callable[[Tensor, bool], Tensor]:
    """The tail as the objective calls it: flat rows in, images out (float32), with the execution
    options; ``run(f, bf16=True)`` runs it under bfloat16 autocast.
    """
    exec_tail = torch.compile(tail, dynamic=False) if execution.compile else tail
    to_channels_last = execution.channels_last and len(shape) == 3

    def run(f: Tensor, bf16: bool = False) -> Tensor:
        x = f.view(f.shape[0], *shape)
        if to_channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if bf16:
            with torch.autocast(device.type, dtype=torch.bfloat16):
                return exec_tail(x).float()
        return exec_tail(x)

    return run


def _check_inputs(feature: Tensor, baseline: Tensor, image: Tensor) -> None:
    if not torch.isfinite(feature).all() or not torch.isfinite(baseline).all():
        raise ValueError("the feature or the baseline contains NaN or inf; check the generator's output at the "
                         "split layer (a NaN feature cannot be explained)")
    if not torch.isfinite(image).all():
        raise ValueError("the target image contains NaN or inf; check the generator's output")



@dataclass
class _Problem:
    """One solve's inputs, checked, flattened and on the feature's device."""

    feature: Tensor
    baseline: Tensor
    delta: Tensor
    image: Tensor
    pmask: Tensor
    shape: tuple
    labels: list[int]
    member: Tensor
    eps: float

    @property
    def n(self) -> int:
        return self.pmask.shape[0]

    @property
    def d(self) -> int:
        return self.feature.numel()

    @property
    def device(self) -> torch.device:
        return self.feature.device

    @property
    def dtype(self) -> torch.dtype:
        return self.feature.dtype


def _problem(feature: Tensor, baseline: Tensor, image: Tensor, patch_masks: Tensor, subsets: Sequence[int],
             eps: float, feature_shape: Sequence[int] | None) -> _Problem:
    """The checked :class:`_Problem` (``ValueError`` for NaN inputs, bad bitmasks, empty patches)."""
    _check_inputs(feature, baseline, image)
    feature = feature.reshape(-1)
    baseline = baseline.reshape(-1).to(feature)
    device, dtype, d = feature.device, feature.dtype, feature.numel()
    n = patch_masks.shape[0]
    labels = [int(s) for s in subsets]
    if labels and (min(labels) < 0 or max(labels) >= 1 << n):
        raise ValueError(f"subset bitmasks must lie in 0..{(1 << n) - 1} for n = {n} patches")
    pmask = patch_masks.to(device=device, dtype=dtype)
    if n and (pmask.flatten(1).sum(1) == 0).any():
        raise ValueError("every patch mask must cover at least one pixel")
    shape = tuple(feature_shape) if feature_shape is not None else (d,)
    return _Problem(feature, baseline, feature - baseline, image.to(device), pmask, shape, labels,
                    subset_membership(labels, n, dtype, device), float(eps))


class _Results:
    """The :class:`SolveResult` being filled in, and everyone told as groups of subsets finish:
    the nested queue (their masks bound their supersets), ``on_result``, the bar, ``progress``.
    """

    def __init__(self, p: _Problem, queue: SubsetQueue, hooks: SolveHooks) -> None:
        self.p, self.queue, self.on_result = p, queue, hooks.on_result
        k, n = len(p.labels), p.n
        self.label_t = torch.as_tensor(p.labels, dtype=torch.long)
        dt, dev = p.dtype, p.device
        self.out = SolveResult(self.label_t, torch.empty(k, p.d, dtype=dt, device=dev),
                               torch.zeros(k, dtype=dt, device=dev), torch.full((k, n), math.nan, dtype=dt, device=dev),
                               torch.zeros(k, dtype=dt, device=dev), torch.zeros(k, dtype=torch.bool, device=dev),
                               torch.zeros(k, dtype=torch.long, device=dev), torch.zeros(k, dtype=dt, device=dev))
        show_bar = hooks.progress is True
        self.bar = tqdm(total=k, desc="minimal features", unit="subset", leave=False) if show_bar else None
        self.report = hooks.progress if callable(hooks.progress) else None
        self.done = 0

    def emit(self, rows: list[int], ms: Tensor, mse: Tensor, pmse: Tensor, iters: Tensor, sp: Tensor) -> None:
        """Rows ``rows`` finished with masks ``ms`` and these measurements."""
        p, out = self.p, self.out
        idx = torch.as_tensor(rows, dtype=torch.long, device=p.device)
        feats = torch.addcmul(p.baseline, ms, p.delta)
        pmse = torch.where(p.member[idx] > 0, pmse, torch.full_like(pmse, math.nan))
        worst = worst_patch_mse(pmse)
        feas = worst <= p.eps
        out.features[idx], out.mse[idx], out.patch_mse[idx], out.max_patch_mse[idx] = feats, mse, pmse, worst
        out.feasible[idx], out.iterations[idx], out.sparsity[idx] = feas, iters, sp
        self.done += len(rows)
        for j, r in enumerate(rows):
            self.queue.finished(r, feats[j])
        if self.on_result is not None:
            self.on_result(SolveResult(self.label_t[idx.cpu()], feats, mse, pmse, worst, feas, iters, sp))
        if self.bar is not None:
            self.bar.update(len(rows))
        if self.report is not None:
            self.report(self.done, len(p.labels))

    def emit_empty(self) -> None:
        """``f_∅ = b`` exactly: the empty set is answered without optimising."""
        p = self.p
        empty = [j for j in range(len(p.labels)) if p.labels[j] == 0]
        if empty:
            z = torch.zeros(len(empty), dtype=p.dtype, device=p.device)
            self.emit(empty, torch.zeros(len(empty), p.d, dtype=p.dtype, device=p.device), z,
                      torch.full((len(empty), p.n), math.nan, dtype=p.dtype, device=p.device),
                      torch.zeros(len(empty), dtype=torch.long, device=p.device), z)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _fill(pool: SlotPool, queue: SubsetQueue, p: _Problem, config: SolverConfig) -> None:
    """Give the free slots to the next subsets that can start."""
    for slot in pool.free():
        row = queue.take()
        if row is None:
            return
        start = {"member": p.member[row]}
        if config.nested:  # start on the union bound of the maximal proper subsets, never below it
            lower = queue.bound(row)
            start["lower"] = lower
            start["m"] = lower.clamp(min=config.init) if config.init > 0 else lower
        else:
            start["m"] = torch.full((p.d,), config.init, dtype=p.dtype, device=p.device)
        pool.reset(slot, row, **start)


def _emit_finished(results: _Results, pool: SlotPool, rows: Rows, ev: Evaluation, decision: Decision,
                   slots: Tensor) -> None:
    """Report the rows that ``decision`` finished (``slots``: the pool slots of ``rows``) and free their slots."""
    fin = decision.finished
    never = ~torch.isfinite(rows.best_obj[fin])
    col = never.unsqueeze(1)  # never feasible: report the last evaluated iterate
    results.emit(pool.row[slots[fin.cpu()]].tolist(), torch.where(col, rows.m[fin], rows.best_m[fin]),
                 torch.where(never, ev.mse[fin], rows.best_mse[fin]),
                 torch.where(col, ev.pmse[fin], rows.best_pmse[fin]), decision.step[fin].long(),
                 torch.where(never, ev.sparsity[fin], rows.best_sp[fin]))
    pool.release(slots[fin.cpu()])


def _iterate(pool: SlotPool, queue: SubsetQueue, objective: Objective, config: SolverConfig, results: _Results,
             hooks: SolveHooks) -> None:
    """Step every live subset until none is left."""
    p = results.p
    _fill(pool, queue, p, config)
    while True:
        busy = pool.busy()
        if not busy.any():
            break
        if hooks.should_stop is not None and hooks.should_stop():
            raise SolveInterrupted(f"stopped with {len(queue) + int(busy.sum())} subsets unsolved")
        # only the live rows are evaluated, packed into blocks of ``unit`` (a row's result depends on
        # the block's width, not on its neighbours: the same whichever subsets share its batch)
        slots = torch.nonzero(busy).flatten()
        dev_slots = slots.to(p.device)
        rows = pool.gather(dev_slots)
        exact = needs_fp32(rows) if objective.mixed else None
        ev = objective.evaluate(rows.m, rows.member, exact)
        with torch.no_grad():
            everyone = torch.ones(len(slots), dtype=torch.bool, device=p.device)
            decision = record(rows, ev, everyone, config)
            hold = None if exact is None else hand_over(rows, ev, decision, exact, config)
            fin = decision.finished
            if fin.any():
                _emit_finished(results, pool, rows, ev, decision, slots)
            held_m = rows.m
            adam_step(rows, ev.grad, decision, config)
            if hold is not None and hold.any():  # their chosen mask is checked in fp32 as it is
                rows.m = torch.where(hold.unsqueeze(1), held_m, rows.m)
            pool.scatter(dev_slots, rows)
        if fin.any():
            _fill(pool, queue, p, config)  # finished subsets may unlock larger ones (nested)
        if hooks.on_step is not None:
            busy = torch.nonzero(pool.busy()).flatten()
            spent = (pool.step - pool.t0)[busy.to(p.device)].long().tolist()
            hooks.on_step({p.labels[int(pool.row[i])]: s for i, s in zip(busy.tolist(), spent, strict=True)})


def solve_minimal_features(
    tail: Callable[[Tensor], Tensor],
    feature: Tensor,
    baseline: Tensor,
    image: Tensor,
    patch_masks: Tensor,
    subsets: Sequence[int],
    config: SolverConfig = PRESETS["fast"],
    epsilon: float | None = None,
    *,
    feature_shape: Sequence[int] | None = None,
    known: Mapping[int, Tensor] | None = None,
    options: SolveOptions | None = None,
    hooks: SolveHooks | None = None,
    **loose: Any,
) -> SolveResult:
    """Solve the minimal feature ``f_T`` (Eq. 5, 9, 10) of every subset in ``subsets``.

    ``feature`` and ``baseline`` are flattened ``(d,)`` (``feature_shape``: the tail's input shape
    per row); ``image`` is ``x = g(f)`` ``(C, H, W)``; ``patch_masks`` ``(n, H, W)`` is the pixel
    mask of each patch of ``N``; ``subsets`` are int bitmasks over those patches (``0`` gives
    ``f_∅ = b`` without optimising); ``epsilon`` overrides ``config.epsilon``.  With
    ``config.nested``, every maximal proper subset ``T∖{i}`` of a subset must be in ``subsets`` or
    in ``known`` (a mapping bitmask → ``f_T`` of subsets solved before).  ``options``
    (:class:`SolveOptions`: batch, block width, :class:`~prsg_widgets.defaults.Execution`) say how it runs,
    ``hooks`` (:class:`SolveHooks`: progress, ``on_result``, ``should_stop``, ``on_step``) whom it
    tells; their fields are also taken as loose keywords (``batch_size=8, progress=False``), as
    the call took them before.

    Results do not depend on the batch: everything is computed on blocks of exactly ``unit`` rows
    (default :func:`~.schedule.block_width`; the live rows packed, the last block padded), so a subset's ``f_T`` is the
    same whichever subsets share its batch, and a resumed solve equals an uninterrupted one.
    Deterministic on the CPU.
    """
    options, hooks = _split_loose(options, hooks, loose)
    eps = config.epsilon if epsilon is None else float(epsilon)
    precision = resolve_precision(options.execution.precision, feature.device)
    p = _problem(feature, baseline, image, patch_masks, subsets, eps, feature_shape)
    batch_size = options.batch_size
    if batch_size is None:
        batch_size = estimate_batch_size(lambda f: tail(f.view(f.shape[0], *p.shape)), (p.d,), p.device)
    batch_size = max(1, int(batch_size))
    unit = block_width(p.device, batch_size, p.n, config.nested) if options.unit is None else max(1, int(options.unit))
    run_tail = _tail_runner(tail, p.shape, p.device, options.execution)
    objective = Objective(run_tail, p.baseline, p.delta, p.image, p.pmask, config, p.eps, unit, precision)
    queue = SubsetQueue(p.labels, [j for j, s in enumerate(p.labels) if s != 0], p.n, config.nested, p.baseline,
                        p.delta, known)
    results = _Results(p, queue, hooks)
    try:
        results.emit_empty()
        pool = SlotPool(slot_count(batch_size, len(queue), unit), p.d, p.n, p.dtype, p.device)
        _iterate(pool, queue, objective, config, results, hooks)
    finally:
        results.close()
    return results.out
