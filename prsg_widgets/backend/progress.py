"""How long is left: a model of the remaining solver work and the speed measured on it.

ETA = (expected subset-iterations of what remains) / (subset-iterations per second measured on
this explainer).  Both parts are measured, not guessed from the iteration budget:

* :class:`RateMeter` counts the solver's subset-iterations (one per subset in the batch per
  batched iteration: the scheduler feeds it from the solver's ``on_step``) over the time the
  worker was actually stepping, so idle time between solves does not dilute it.
* :func:`expected_iterations` predicts how many iterations an unsolved subset will take from the
  iterations the solved ones took (per subset size where that size has been seen: under nested
  solving the first, single-patch subsets climb from 0 and the larger ones start from their
  bound and often stop at once).
* :func:`remaining_iterations` sums that over the unsolved subsets of the explanations a view
  waits for, minus what the subsets in the batch have already run.

Everything takes an explicit clock so the tests replay recorded solves on a fake one.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np

IDLE_GAP_S = 2.0
"""A pause between two steps longer than this is idle time (no solve running), not work."""


class RateMeter:
    """Subset-iterations per second while the worker steps (thread-safe; ``clock`` injectable)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, idle_gap: float = IDLE_GAP_S) -> None:
        self._clock = clock
        self._idle_gap = float(idle_gap)
        self._lock = threading.Lock()
        self.subset_iterations = 0
        """Subset-iterations counted so far (all solves of this explainer)."""
        self._busy = 0.0
        self._last: Optional[float] = None

    def add(self, subset_iterations: int) -> None:
        """One batched iteration over ``subset_iterations`` subsets has just finished."""
        now = self._clock()
        with self._lock:
            if self._last is not None and now - self._last <= self._idle_gap:
                self._busy += now - self._last
            self._last = now
            self.subset_iterations += int(subset_iterations)

    def rate(self, min_busy: float = 0.3) -> Optional[float]:
        """Measured subset-iterations per second (``None`` before ``min_busy`` seconds of work)."""
        with self._lock:
            if self._busy < min_busy or self.subset_iterations <= 0:
                return None
            return self.subset_iterations / self._busy


def _order(s: int) -> int:
    return bin(int(s)).count("1")


def expected_iterations(solved: Iterable[tuple[int, int]], order: int, prior: float) -> float:
    """Iterations an unsolved subset of size ``order`` is expected to take, from ``solved``
    ``(subset, iterations)`` pairs (``∅`` excluded: it is never optimised): the mean over the
    solved subsets of the same size; for a size not seen yet, the mean of the largest size seen
    (nested solves get cheaper with size; an independent solve does not depend on it); with
    nothing solved, ``prior``."""
    by_order: dict[int, list[int]] = {}
    for s, it in solved:
        if s:
            by_order.setdefault(_order(s), []).append(int(it))
    if order in by_order:
        return float(np.mean(by_order[order]))
    if by_order:
        return float(np.mean(by_order[max(by_order)]))
    return float(prior)


def solved_pairs(explanation: Any) -> list[tuple[int, float]]:
    """``(subset, iterations)`` of the solved subsets of ``explanation`` (``∅`` left out)."""
    its = np.asarray(explanation.iterations)
    return [(int(s), int(its[s])) for s in explanation.solved_subsets() if s]


def remaining_iterations(explanations: Sequence[Any], in_flight: Any = None,
                         prior: Optional[float] = None) -> Optional[float]:
    """Expected subset-iterations left before every subset of ``explanations`` is solved.

    ``in_flight`` is the scheduler's :class:`~prsg_widgets.backend.scheduler.InFlight` (or
    ``None``): a subset in the batch that has run ``k`` iterations is expected to run what the
    solved subsets that ran longer than ``k`` ran beyond it (:func:`_still_to_run`: short
    subsets finish first, so the plain mean would make a long one look nearly done).  The
    expectation pools the solved subsets of every given
    explanation (give those of one explainer).  With no subset solved yet it is ``prior``
    per subset, or ``None`` (unknown) when no ``prior`` is given."""
    pooled: list[tuple[int, int]] = []
    for e in explanations:
        pooled += solved_pairs(e)
    if not pooled and prior is None:
        return None
    flight_key = getattr(in_flight, "key", None)
    steps = dict(getattr(in_flight, "steps", {}) or {})
    left = 0.0
    for e in explanations:
        solved = np.asarray(e.solved_mask()) if hasattr(e, "solved_mask") else None
        if solved is None:
            continue
        running = steps if getattr(e, "key", None) == flight_key else {}
        for s in np.flatnonzero(~solved):
            if int(s) in running:
                left += _still_to_run(pooled, _order(int(s)), running[int(s)], prior or 0.0,
                                      getattr(in_flight, "budget", None))
            else:
                left += expected_iterations(pooled, _order(int(s)), prior or 0.0)
    return left


def _still_to_run(pooled: list[tuple[int, int]], order: int, done: int, prior: float,
                  budget: Optional[int] = None) -> float:
    """Iterations a subset that has run ``done`` is still expected to run: the mean excess over
    ``done`` of the solved subsets of its size (where seen) that ran longer than that; when none
    did, of any size.  When no solved subset ran that long (it is one of the long ones: short ones
    finish first), half as long again as it has run (measured: the subsets of one batch stop within
    about 1.5× of each other), but not past its iteration ``budget`` (at least one step)."""
    sizes = {_order(s) for s, _ in pooled}
    size = order if order in sizes else max(sizes, default=None)
    same = [it for s, it in pooled if _order(s) == size]
    longer = [it - done for it in same if it > done]
    if not longer:
        longer = [it - done for _, it in pooled if it > done]
    if longer:
        return float(np.mean(longer))
    if not pooled:
        return max(1.0, prior - done)
    guess = max(1.0, done / 2)
    return min(guess, max(1.0, budget - done)) if budget else guess


def eta_seconds(remaining: Optional[float], rate: Optional[float]) -> Optional[float]:
    """Seconds left at the measured ``rate`` (``None`` when either is not known yet)."""
    if remaining is None or rate is None or not rate > 0:
        return None
    return float(remaining) / float(rate)
