"""Which subset is solved next: the order of the queue and, when nested, readiness and bounds.

* Nested solving needs every maximal proper subset ``T∖{i}`` of ``T`` finished (or known) before
  ``T`` starts: its union bound ``max_i m_{T∖i}`` is both its start and its floor.  Subsets go by
  increasing size.
* Independent subsets go by *decreasing* size: a component ``I(S)`` needs ``u(N∖L)`` for every
  ``L ⊆ S``, so the low-order components — the ones a viewer looks at first — need the largest
  subsets (``I({i})`` needs only ``u(N)`` and ``u(N∖{i})``); solving those first makes components
  computable soonest.

The order never changes a subset's result (the objective is evaluated per block, see
:mod:`.objective`), only when it is ready.

These rules are public so that what predicts the solver — the progress model's ETA, the file
checks — reads them here instead of restating them: :func:`solve_order`, :func:`is_ready`,
:func:`widest_level`, :func:`block_width`, :func:`slot_count`, and :func:`simulate`, the
schedule replayed without a model.
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Mapping

import torch
from torch import Tensor

from .config import SolverConfig

Segment = tuple[float, tuple[int, ...]]
"""``(steps, subsets in the batch)``: a stretch of the schedule in which the batch does not change."""


def mask_of(feature_t: Tensor, baseline: Tensor, delta: Tensor) -> Tensor:
    """The mask ``m`` with ``f_T = b + m ⊙ (f − b)``, recovered from ``f_T`` (0 where ``f = b``)."""
    safe = torch.where(delta != 0, delta, torch.ones_like(delta))
    return torch.where(delta != 0, (feature_t - baseline) / safe, torch.zeros_like(delta)).clamp(0, 1)


def parents(s: int, n: int) -> list[int]:
    """The maximal proper subsets ``T∖{i}`` of bitmask ``s``."""
    return [s & ~(1 << i) for i in range(n) if (s >> i) & 1]


def children(s: int, n: int) -> list[int]:
    """The minimal proper supersets ``T ∪ {i}`` of bitmask ``s`` among ``n`` patches."""
    return [s | (1 << i) for i in range(n) if not (s >> i) & 1]


def subset_size(s: int) -> int:
    """``|T|``, the patches in bitmask ``s``."""
    return bin(int(s)).count("1")


def solve_order(subsets: Collection[int], nested: bool) -> list[int]:
    """``subsets`` in solving order: by increasing size when nested, else by decreasing size."""
    sign = 1 if nested else -1
    return sorted(subsets, key=lambda s: (sign * subset_size(s), s))


def is_ready(s: int, n: int, nested: bool, solved: Collection[int]) -> bool:
    """Can subset ``s`` start once the subsets in ``solved`` are?  Always when independent; when
    nested, once every maximal proper subset ``T∖{i}`` is solved (its union bound is ``T``'s floor).
    """
    return not nested or all(p in solved for p in parents(s, n))


def widest_level(n: int) -> int:
    """The most subsets of one size among ``n`` patches, ``C(n, ⌊n/2⌋)``: the most a nested solve
    can ever have ready at once.
    """
    return math.comb(n, n // 2)


def default_unit(device: torch.device, batch_size: int, num_subsets: int | None = None,
                 widest: int | None = None) -> int:
    """Rows per block: on the CPU 8 (per row as fast as 16, 32 or 64 on 2 cores: 0.90 against
    0.89 ms for the faces' cheap tail forward + backward, where 4 rows cost 1.0 and 1 row 1.7; and
    the live subsets are packed into blocks, so the last block of a step holds fewer empty rows),
    or fewer when a nested solve can never have more than ``widest`` subsets ready at once (the
    largest level of the lattice, :func:`widest_level`: 6 at n = 4); on a GPU the whole batch, but
    no more than the explanation's ``num_subsets`` (2^n − 1) so 511 subsets never run in 1024
    slots.  Depends only on the device, the batch size, n and the mode — never on what is pending
    — so results stay batch-independent.
    """
    if device.type == "cuda":
        return min(batch_size, num_subsets) if num_subsets else batch_size
    return max(1, min(batch_size, 8, widest or 8))


def block_width(device: torch.device | str, batch_size: int, n: int, nested: bool) -> int:
    """The rows per block a solve of ``n`` patches evaluates (:func:`default_unit` with the lattice's
    size and, nested, its widest level).
    """
    widest = widest_level(n) if nested else None
    return default_unit(torch.device(device), batch_size, (1 << n) - 1, widest)


def slot_count(batch_size: int, pending: int, unit: int) -> int:
    """Slots a solve runs at once: its batch, or fewer when fewer subsets are pending, in whole
    blocks of ``unit`` rows (every slot of a block is evaluated, so all of them take subsets).
    """
    return -(-min(batch_size, max(pending, 1)) // unit) * unit


def simulate(config: SolverConfig | bool, n: int, iterations_per_subset: Mapping[int, float],
             batch: int | None = None, running: Mapping[int, float] | None = None,
             unit: int = 1) -> list[Segment]:
    """The solver's schedule replayed without a model: which subsets are in the batch at each step
    when subset ``s`` takes ``iterations_per_subset[s]`` steps (at least one).

    ``config``: the solver settings (only ``nested`` matters) or ``nested`` itself.  ``batch``: the
    solver's batch size (``None``: every subset fits); with ``unit`` rows per block it gives the
    slots (:func:`slot_count`).  ``running``: ``{subset: steps left}`` already in the batch; every
    subset of the lattice in neither mapping is solved (``∅`` is never scheduled: the solver
    answers it without optimising).  Subsets start in :func:`solve_order` as soon as a slot is free
    and they are ready (:func:`is_ready`), as :class:`SubsetQueue` lets them.  Returns the schedule
    as :data:`Segment` stretches ``(steps, subsets)``, in order; with whole iterations the steps
    are whole.
    """
    nested = config if isinstance(config, bool) else config.nested
    left = {int(s): float(v) for s, v in (running or {}).items()}
    todo = set(left) | {int(s) for s in iterations_per_subset if s}
    waiting = solve_order(todo - set(left), nested)
    position = {s: i for i, s in enumerate(waiting)}
    unmet = {s: sum(1 for p in parents(s, n) if p in todo) if nested else 0 for s in waiting}
    ready = [position[s] for s in waiting if unmet[s] == 0]
    heapq.heapify(ready)
    slots = slot_count(batch, len(todo), max(1, int(unit))) if batch else len(todo) + 1
    out: list[Segment] = []
    while left or ready:
        while ready and len(left) < slots:
            s = waiting[heapq.heappop(ready)]
            left[s] = max(1.0, float(iterations_per_subset[s]))
        dt = min(left.values())
        out.append((dt, tuple(left)))
        for s in [s for s, v in left.items() if v - dt <= 1e-9]:
            del left[s]
            for c in children(s, n) if nested else ():
                if c in unmet:
                    unmet[c] -= 1
                    if unmet[c] == 0:
                        heapq.heappush(ready, position[c])
        for s in left:
            left[s] -= dt
    return out


class SubsetQueue:
    """The subsets still to solve (as row indices into ``labels``), and the finished masks that
    nested bounds are made of.
    """

    def __init__(self, labels: list[int], rows: list[int], n: int, nested: bool, baseline: Tensor, delta: Tensor,
                 known: Mapping[int, Tensor] | None = None) -> None:
        self.labels, self.n, self.nested = labels, n, nested
        self.baseline, self.delta = baseline, delta
        order = solve_order([labels[j] for j in rows], nested)
        row_of = {labels[j]: j for j in rows}
        self.pending = [row_of[s] for s in order]
        self.masks: dict[int, Tensor] = {}
        if nested:
            for s, f_s in (known or {}).items():
                self.masks[int(s)] = mask_of(f_s.reshape(-1).to(delta), baseline, delta)
            self.masks.setdefault(0, torch.zeros_like(delta))
            solvable = set(self.masks) | set(labels)
            for j in self.pending:
                missing = [p for p in parents(labels[j], n) if p not in solvable]
                if missing:
                    raise ValueError(f"nested solving of subset {labels[j]} needs its maximal proper subsets "
                                     f"{missing} solved first or solved in the same call")

    def __len__(self) -> int:
        return len(self.pending)

    def ready(self, row: int) -> bool:
        """Can the subset of ``row`` start now?"""
        return is_ready(self.labels[row], self.n, self.nested, self.masks)

    def take(self) -> int | None:
        """The next subset that can start (its row), or ``None`` when none can yet."""
        pick = next((i for i, j in enumerate(self.pending) if self.ready(j)), None)
        return None if pick is None else self.pending.pop(pick)

    def bound(self, row: int) -> Tensor:
        """The union bound ``max_i m_{T∖i}`` of the subset of ``row`` (nested)."""
        return torch.stack([self.masks[p] for p in parents(self.labels[row], self.n)]).amax(0)

    def finished(self, row: int, feature_t: Tensor) -> None:
        """Record a finished subset.  Its mask is recovered from ``f_T`` exactly as a resumed solve
        recovers it from the stored ``f_T``, so both bound their supersets alike.
        """
        if self.nested:
            self.masks[self.labels[row]] = mask_of(feature_t, self.baseline, self.delta)
