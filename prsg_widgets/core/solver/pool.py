"""The slot pool: the per-subset optimisation state of the subsets being solved, one row per slot.

A solve runs ``cap`` slots at once (whole blocks of ``unit`` rows); a subset takes a free slot,
its state is reset there, and it leaves when it stops.  Keeping every per-slot tensor in one
:class:`SlotPool` — rather than a dozen parallel tensors — lets the loop take the rows it works on
with :meth:`SlotPool.gather`, update them as one :class:`Rows` value, and put them back with
:meth:`SlotPool.scatter`.
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

# name → (per-row shape: "d", "n" or (), dtype key, value on reset)
_FIELDS: dict[str, tuple[str | tuple[()], str, float]] = {
    "m": ("d", "float", 0.0),          # the mask being optimised
    "m1": ("d", "float", 0.0),         # Adam's first moment
    "m2": ("d", "float", 0.0),         # Adam's second moment
    "lower": ("d", "float", 0.0),      # nested: the union bound of the maximal proper subsets
    "best_m": ("d", "float", 0.0),     # the best feasible iterate so far
    "eta": ("d", "float", 0.0),        # polish: each element's step size
    "gsign": ("d", "float", 0.0),      # polish: the sign of each element's last gradient
    "member": ("n", "float", 0.0),     # which patches of N the subset holds
    "best_pmse": ("n", "float", 0.0),
    "step": ((), "float", 0.0),        # steps since the subset took the slot
    "t0": ((), "float", 0.0),          # the step of its last (re)start: Adam's clock and budget
    "best_obj": ((), "float", math.inf),
    "best_mse": ((), "float", 0.0),
    "best_sp": ((), "float", 0.0),
    "best_viol": ((), "float", math.inf),
    "stall": ((), "long", 0),          # steps without a relative improvement of the objective
    "vstall": ((), "long", 0),         # … of the violation, while never feasible
    "restarted": ((), "bool", False),
    "phase": ((), "long", 0),          # 0: Adam; k ≥ 1: the k-th step of the polish
    "verify": ((), "bool", False),     # mixed precision: its chosen mask is evaluated in fp32 next
    "exact": ((), "bool", False),      # mixed precision: failed that check, goes on in fp32
}

_FIXED = frozenset({"lower", "member"})
"""Fields set when a subset takes its slot and never changed by a step: :meth:`SlotPool.scatter` skips them."""


class Rows(dict):
    """The state of some slots, by field name (``rows.m``, ``rows.best_obj``, …)."""

    def __getattr__(self, name: str) -> Tensor:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value


class SlotPool:
    """Per-slot state for ``cap`` slots (``d`` mask elements, ``n`` patches), plus the row of the
    subset in each slot (``-1``: idle), kept on the CPU because it drives Python indexing.
    """

    def __init__(self, cap: int, d: int, n: int, dtype: torch.dtype, device: torch.device) -> None:
        self.cap = cap
        self.row = torch.full((cap,), -1, dtype=torch.long)
        types = {"float": dtype, "long": torch.long, "bool": torch.bool}
        self._state: dict[str, Tensor] = {}
        for name, (shape, kind, fill) in _FIELDS.items():
            size = (cap,) + ({"d": (d,), "n": (n,)}.get(shape, ()) if isinstance(shape, str) else ())
            self._state[name] = torch.full(size, fill, dtype=types[kind], device=device)

    def __getattr__(self, name: str) -> Tensor:
        state = self.__dict__.get("_state", {})
        if name in state:
            return state[name]
        raise AttributeError(name)

    def reset(self, slot: int, row: int, **values: Tensor) -> None:
        """Give ``slot`` to the subset of ``row``: every field back to its start value, then ``values``."""
        self.row[slot] = row
        for name, (_, _, fill) in _FIELDS.items():
            self._state[name][slot] = values[name] if name in values else fill

    def release(self, slots: Tensor) -> None:
        """Free ``slots`` (their state stays until the next :meth:`reset`: idle rows are padding)."""
        self.row[slots.cpu()] = -1

    def free(self) -> list[int]:
        """Idle slots, in order."""
        return torch.nonzero(self.row < 0).flatten().tolist()

    def busy(self) -> Tensor:
        """``(cap,)`` bool: slots holding a subset."""
        return self.row >= 0

    def gather(self, idx: Tensor) -> Rows:
        """A copy of the state of slots ``idx``."""
        return Rows({name: t[idx] for name, t in self._state.items()})

    def scatter(self, idx: Tensor, rows: Rows) -> None:
        """Write ``rows`` back into slots ``idx`` (the fields a step changes; not ``lower`` and ``member``)."""
        for name, t in self._state.items():
            if name not in _FIXED:
                t[idx] = rows[name]
