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
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor


def mask_of(feature_t: Tensor, baseline: Tensor, delta: Tensor) -> Tensor:
    """The mask ``m`` with ``f_T = b + m ⊙ (f − b)``, recovered from ``f_T`` (0 where ``f = b``)."""
    safe = torch.where(delta != 0, delta, torch.ones_like(delta))
    return torch.where(delta != 0, (feature_t - baseline) / safe, torch.zeros_like(delta)).clamp(0, 1)


def parents(s: int, n: int) -> list[int]:
    """The maximal proper subsets ``T∖{i}`` of bitmask ``s``."""
    return [s & ~(1 << i) for i in range(n) if (s >> i) & 1]


def solve_order(subsets: list[int], nested: bool) -> list[int]:
    """``subsets`` in solving order: by increasing size when nested, else by decreasing size."""
    sign = 1 if nested else -1
    return sorted(subsets, key=lambda s: (sign * bin(s).count("1"), s))


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
        return not self.nested or all(p in self.masks for p in parents(self.labels[row], self.n))

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
