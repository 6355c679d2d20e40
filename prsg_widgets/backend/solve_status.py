"""What is solved of an explanation: the subsets ``T ⊆ N`` of its patches and, per subset,
whether ``f_T`` is known and how well it fits (mse, feasibility, iterations).

:class:`SolveStatus` is the part of an :class:`~prsg_widgets.backend.explanation.Explanation`
that reads its solve record without solving or rendering anything: what progress views and the
health checks read while a solve runs.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..core import harsanyi
from ..core.grid import subset_to_patches
from ..core.solver import worst_patch_mse
from .persistence.store import SolveRecord
from .subset_args import SubsetLike, subset_bitmask

__all__ = ["SolveStatus"]


def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


class SolveStatus:
    """The subsets of the patches ``N`` and the solve state of their minimal features, read from
    a shared solve record (arrays are read-only views: a solved row never changes).
    """

    def __init__(self, record: SolveRecord, patches: Sequence[int]) -> None:
        self._record = record
        self._patches = tuple(int(p) for p in patches)

    # ------------------------------------------------------------------ subsets of N
    @property
    def patches(self) -> list[int]:
        """The patch ids ``N`` (sorted; a copy — the explanation's own cannot change)."""
        return list(self._patches)

    @property
    def n(self) -> int:
        """The number of patches ``|N|``."""
        return len(self._patches)

    @property
    def num_subsets(self) -> int:
        """``2^n``: the number of subsets of ``N``, ∅ included."""
        return 1 << self.n

    @property
    def full(self) -> int:
        """Bitmask of ``N``."""
        return self.num_subsets - 1

    def subset(self, T: SubsetLike) -> int:
        """Bitmask of ``T``: an int bitmask, patch ids of ``N``, an entry of ``ranking()`` or a
        :class:`~prsg_widgets.backend.sample.Component` (see :mod:`~prsg_widgets.backend.subset_args`).
        """
        return subset_bitmask(T, self._patches)

    def subset_patches(self, T: SubsetLike) -> list[int]:
        """The patch ids of ``T``."""
        return subset_to_patches(self.subset(T), self._patches)

    # ------------------------------------------------------------------ what is solved
    @property
    def mse(self) -> np.ndarray:
        """Mse over all of T's pixels per subset ``(2^n,)`` (read-only; ``nan`` = unsolved)."""
        return _readonly(self._record.mse)

    @property
    def patch_mse(self) -> np.ndarray:
        """Each patch's own mse per subset ``(2^n, n)`` (read-only; ``nan`` outside T)."""
        return _readonly(self._record.patch_mse)

    @property
    def feasible(self) -> np.ndarray:
        """Whether every patch of T is within ε, per subset (read-only)."""
        return _readonly(self._record.feasible)

    @property
    def iterations(self) -> np.ndarray:
        """Solver iterations per subset (read-only)."""
        return _readonly(self._record.iterations)

    @property
    def max_patch_mse(self) -> np.ndarray:
        """The worst patch's mse per subset ``(2^n,)`` (0 for ∅, ``nan`` where unsolved)."""
        worst = worst_patch_mse(torch.from_numpy(np.asarray(self._record.patch_mse, dtype=np.float64))).numpy()
        return np.where(self._record.solved, worst, np.nan)

    def solved_subsets(self) -> list[int]:
        """Bitmasks of the subsets whose ``f_T`` is known."""
        return np.flatnonzero(self._record.solved).tolist()

    @property
    def progress(self) -> tuple[int, int]:
        """``(solved, total)`` minimal features."""
        return int(self._record.solved.sum()), self.num_subsets

    @property
    def is_complete(self) -> bool:
        """Whether every ``f_T`` is known."""
        return bool(self._record.solved.all())

    def is_solved(self, T: SubsetLike) -> bool:
        """Whether ``f_T`` is known."""
        return bool(self._record.solved[self.subset(T)])

    def solved_mask(self) -> np.ndarray:
        """Copy of the per-subset solved flags ``(2^n,)``."""
        return self._record.solved.copy()

    def component_ready(self, S: SubsetLike) -> bool:
        """Whether ``I(S)`` can be computed without solving: all ``f_{N∖L}``, ``L ⊆ S``, are known."""
        return bool(self._record.solved[harsanyi.or_interaction_needs(self.subset(S), self.full)].all())

    def on_update(self, callback: Callable[[Any, list[int]], None]) -> None:
        """Call ``callback(explanation, new_subsets)`` (from the worker thread) as results land."""
        self._record.listeners.append(callback)

    def remove_listener(self, callback: Callable[[Any, list[int]], None]) -> None:
        """Stop calling a callback registered with :meth:`on_update` (no error if absent)."""
        if callback in self._record.listeners:
            self._record.listeners.remove(callback)
