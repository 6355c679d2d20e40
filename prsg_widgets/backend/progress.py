"""How long is left: a model of the remaining solver work and the speed measured on it.

ETA = the solver's remaining schedule, replayed with expected iterations, priced at the time per
evaluated block measured on this explainer.  Both parts follow the solver's own rules
(:mod:`prsg_widgets.core.solver.schedule`, :mod:`~prsg_widgets.core.solver.pool`) and what was
measured, not the budget:

* :class:`RateMeter` counts the solver's subset-iterations over the time the worker was actually
  stepping (idle time between solves does not dilute it) and prices the *blocks* of rows the
  solver evaluates (:meth:`RateMeter.block_seconds`): the solver packs the live subsets into
  blocks of ``unit`` rows, so six climbing subsets in an 8-row block cost as much per step as
  eight, and nine take two blocks: a step of ``k`` subsets costs ``ceil(k / unit)`` blocks.  (Until
  issue 26 the solver evaluated every block of slots holding a live subset, and the meter replayed
  the slot pool's holes; packing made both the solver and this model simpler.)  The time between
  two reports went to the batch of the first.
* :class:`Cohort` estimates how many iterations the subsets of one size (nested) or of the whole
  solve (independent) take, from the finished ones and the ones still running (Kaplan–Meier:
  the short ones finish first, so the finished ones alone would make a long one look nearly
  done), with bound stops (1 iteration) apart from climbs.  Under nesting the share of bound
  stops is kept per class of climbing parents (:func:`_class_shares`): a subset starts on its
  parents' union bound and is ready only once they finished, so the first of a size to finish
  are those on bound-stopped parents, which mostly stop on their bound too, while those waiting
  on climbing parents climb far more often (n = 12: 1.5% against 74% at size 4).  One share per
  size, read off the first finishers, called such a level free (0.23× of the time left).
* :func:`remaining_seconds` replays the rest of the solve with the solver's own schedule
  (:func:`prsg_widgets.core.solver.simulate`: its order, nested readiness and slots) and
  iterations from those cohorts (a level's expected climbs drawn at spread quantiles, to the
  subsets likeliest to climb, so a level's longest subset is represented, not only its mean),
  sums each stretch's packed blocks at the measured price:
  under nesting the time is set by each level's slowest subset, which a sum of iterations cannot
  see.  :func:`solve_estimate` — the dashboard's estimate before a solve — replays a whole
  lattice the same way.

What it cannot see is the machine changing speed within a solve: the price is the recent one
(:data:`HALF_LIFE_S`).  Everything takes an explicit clock so the tests replay recorded solves on
a fake one.
"""
from __future__ import annotations

import copy
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..core.solver import block_width, parents, settle_iterations, simulate, solve_order, subset_size

__all__ = ["FRACTION_FROM", "HALF_LIFE_S", "IDLE_GAP_S", "Cohort", "RateMeter", "eta_for", "remaining_seconds",
           "settle_iterations", "solve_estimate", "solved_pairs"]

FRACTION_FROM = 0.5
"""Below half an expected climb a level is taken as free (its chance of a climb is not added in)."""

IDLE_GAP_S = 2.0
"""A pause between two steps longer than this is idle time (no solve running), not work."""

HALF_LIFE_S = 20.0
"""Busy seconds after which a timed step counts half in the step cost: the speed of a shared CPU
changes within one solve (recorded: 0.05 → 0.3 s per 16-row block as other work started), so the
price of the next steps is the recent one, not the mean since the session began."""

HORIZON = 10
"""Timed steps older than this many half-lives (weight below 0.1%) are dropped."""


class RateMeter:
    """Subset-iterations per second while the worker steps, and the seconds per block of rows the
    solver evaluates (thread-safe; ``clock`` injectable).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, idle_gap: float = IDLE_GAP_S) -> None:
        self._clock = clock
        self._idle_gap = float(idle_gap)
        self._lock = threading.Lock()
        self.subset_iterations = 0
        """Subset-iterations counted so far (all solves of this explainer)."""
        self._busy = 0.0
        self._last: float | None = None
        self.widest = 0
        """The most subsets seen in one batched iteration."""
        self._batch = 0  # the subsets of the batch being evaluated now
        self._timed: list[tuple[float, float, int]] = []  # (busy at its end, seconds, subsets)

    def since_last(self) -> float:
        """Seconds since the last timed step (0 before any): the part of the current step done."""
        with self._lock:
            return 0.0 if self._last is None else max(0.0, self._clock() - self._last)

    def add(self, batch: int | Mapping[int, int]) -> None:
        """One batched iteration has just finished; ``batch`` is the next one the solver reports —
        ``{subset: iterations run}`` (its ``on_step``), or only how many subsets.  The time since
        the last report went to the batch reported then (and to starting and finishing subsets in
        between), so it is priced by that batch's packed blocks.
        """
        now = self._clock()
        live = len(batch) if isinstance(batch, Mapping) else int(batch)
        with self._lock:
            last = self._last
            fresh = last is None or now - last > self._idle_gap
            if last is not None and not fresh:
                dt = now - last
                self._busy += dt
                self._timed.append((self._busy, dt, self._batch))
                horizon = self._busy - HORIZON * HALF_LIFE_S
                if self._timed[0][0] < horizon:
                    self._timed = [item for item in self._timed if item[0] >= horizon]
            self._batch = live
            self._last = now
            self.subset_iterations += live
            self.widest = max(self.widest, live)

    def rate(self, min_busy: float = 0.3) -> float | None:
        """Measured subset-iterations per second (``None`` before ``min_busy`` seconds of work)."""
        with self._lock:
            if self._busy < min_busy or self.subset_iterations <= 0:
                return None
            return self.subset_iterations / self._busy

    def block_seconds(self, unit: int = 1, min_busy: float = 0.3) -> float | None:
        """Seconds per evaluated block of ``unit`` rows, measured recently: each timed step counts
        its packed blocks, ``ceil(subsets / unit)``, weighted by ``0.5 ** (busy seconds since / HALF_LIFE_S)``; ``None``
        before ``min_busy`` seconds of work.
        """
        unit = max(1, int(unit))
        with self._lock:
            if self._busy < min_busy or not self._timed:
                return None
            timed, busy = list(self._timed), self._busy
        blocks = seconds = 0.0
        for end, dt, live in timed:
            weight = 0.5 ** ((busy - end) / HALF_LIFE_S)
            blocks += weight * max(1, -(-live // unit))
            seconds += weight * dt
        return seconds / max(blocks, 1e-12)

    def step_cost(self, unit: int = 1, min_busy: float = 0.3) -> Callable[[int], float] | None:
        """Seconds of one batched iteration over ``k`` packed subsets: ``ceil(k / unit)`` blocks at
        :meth:`block_seconds`; ``None`` before ``min_busy`` seconds of work.
        """
        per_block = self.block_seconds(unit, min_busy)
        if per_block is None:
            return None
        unit = max(1, int(unit))
        return lambda k: per_block * max(1, -(-int(k) // unit))


def solved_pairs(explanation: Any) -> list[tuple[int, int]]:
    """``(subset, iterations)`` of the solved subsets of ``explanation`` (``∅`` left out)."""
    its = np.asarray(explanation.iterations)
    return [(int(s), int(its[s])) for s in explanation.solved_subsets() if s]


class Cohort:
    """The iterations of one group of subsets that share a distribution — one size under nested
    solving, every subset otherwise — estimated from the ones that finished (exact) and the ones
    still running (censored: they will take more than they have run so far).

    A subset stops either at step 1 (its floor already within ε: the bound stop) or after a climb;
    the two are kept apart (``p_bound``, and a Kaplan–Meier survival curve of the climbs).  Beyond
    the longest finished climb the curve continues in a straight line to zero (the climbs finished
    so far fall about linearly with their length), or, when no climb has finished, it is the
    point ``settle`` (what a climb takes in the solver's settings, :func:`settle_iterations`).
    """

    def __init__(self, finished: Sequence[int], running: Sequence[int], settle: float | None = None,
                 budget: float | None = None) -> None:
        finished = [max(1, int(v)) for v in finished]
        climbs = sorted(v for v in finished if v > 1)
        censored = [int(k) for k in running]
        started = len(finished) + len(censored)
        # the share of bound stops, with half a pseudo-count each way: one early bound stop must not
        # make a whole level look free
        self.p_bound = (len(finished) - len(climbs) + 0.5) / (started + 1) if started else 0.0
        self.budget = float(budget) if budget else None
        self.p_class: dict[int, float] = {}
        """``p_bound`` of the subsets by climbing parents (:func:`_climbing_parents`), where known."""
        self.known = bool(climbs) or settle is not None
        self._points: list[tuple[float, float]] = []  # (t, S(t)) after each finishing time
        surv = 1.0
        for t in sorted(set(climbs)):
            at_risk = sum(1 for v in climbs if v >= t) + sum(1 for k in censored if k >= t)
            surv *= 1.0 - climbs.count(t) / max(at_risk, 1)
            self._points.append((float(t), surv))
        if climbs:
            first, (last, s_last) = climbs[0] - 1.0, self._points[-1]
            slope = (1.0 - s_last) / max(last - first, 1.0)
            self._start, self.end = first, last + (s_last / slope if slope > 0 else 0.0)
        else:
            self._start = self.end = float(settle) if settle is not None else 0.0
        if self.budget:
            self.end = min(self.end, self.budget)
        self._start = min(self._start, self.end)

    def survival(self, t: float) -> float:
        """P(a climb takes more than ``t`` iterations)."""
        if not self._points:
            return 1.0 if t < self.end else 0.0
        if t < self._start:
            return 1.0
        if t <= self._points[-1][0]:
            surv = 1.0
            for time_, value in self._points:
                if time_ <= t:
                    surv = value
            return surv
        last, s_last = self._points[-1]
        return 0.0 if t >= self.end else s_last * (self.end - t) / max(self.end - last, 1e-9)

    def excess(self, done: float) -> float:
        """Iterations a climb that has run ``done`` is still expected to take, E[X − done | X > done]
        (one at least; past the curve's end, a tenth of the climbs' span).
        """
        s_done = self.survival(done)
        if s_done <= 0:
            return max(1.0, 0.1 * (self.end - self._start))
        grid = np.linspace(done, max(done, self.end), 64)
        values = np.array([self.survival(t) for t in grid])
        area = float(np.sum((values[1:] + values[:-1]) / 2 * np.diff(grid)))
        return max(1.0, area / s_done)

    def draws(self, m: int, p_bound: float | None = None) -> list[float]:
        """``m`` iterations for subsets that have not started, longest first: the expected number
        of climbs ``(1 − p_bound)·m`` at spread quantiles of their curve — a fractional last one
        weighted by its fraction, so a likely-free level costs a little, not a whole climb —
        then bound stops (1).  ``p_bound``: the share of bound stops (default: the cohort's).
        """
        expected = (1.0 - (self.p_bound if p_bound is None else p_bound)) * m
        whole = min(m, int(expected))
        frac = expected - whole if whole < m and expected >= FRACTION_FROM else 0.0
        count = whole + (1 if frac > 1e-6 else 0)
        out = []
        for j in range(count):
            target = (j + 0.5) / count  # quantile among the climbs
            lo, hi = self._start, max(self._start, self.end)
            for _ in range(40):  # bisection on the survival curve: S(t) = 1 − target
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if self.survival(mid) > 1.0 - target else (lo, mid)
            out.append(max(1.0, hi))
        out.sort(reverse=True)
        if frac > 1e-6:
            out[-1] = 1.0 + frac * (out[-1] - 1.0)
        return out + [1.0] * (m - count)


CLASSES = 3
"""Subsets are classed by their climbing parents, 0, 1, 2, or ``CLASSES`` and more."""

SETTLED_MIN = 5
"""A class's share at a settled size is used once that many of its subsets finished."""


def _climbing_parents(s: int, climbed: Callable[[int], bool]) -> int:
    """The class of ``s``: how many of its maximal proper subsets climbed (at most :data:`CLASSES`)."""
    return min(CLASSES, sum(1 for p in parents(s, int(s).bit_length()) if climbed(p)))


def _climbed_in(its: dict[int, int]) -> Callable[[int], bool]:
    """Did a subset climb (take more than one iteration) in ``its`` ``{subset: iterations}``?"""
    return lambda p: its.get(p, 1) > 1


def _images(pairs: Sequence[tuple[int, int]]) -> list[dict[int, int]]:
    """``pairs`` of images listed one after another (each in increasing subset order, as
    :func:`solved_pairs` gives them) split back into one ``{subset: iterations}`` per image.
    """
    out: list[dict[int, int]] = []
    last = None
    for s, it in pairs:
        if last is None or s <= last:
            out.append({})
        out[-1][int(s)] = int(it)
        last = s
    return out


def _fall(seen: Sequence[tuple[int, float]]) -> tuple[int, float, float]:
    """``(size, climb share, ratio)``: a class's share at its largest settled size, and the
    size-to-size ratio it fell by from the settled size before (1 when it did not fall).
    """
    size, last = seen[-1]
    ratio = 1.0
    if len(seen) >= 2 and 0 < last < seen[-2][1]:
        ratio = (last / seen[-2][1]) ** (1.0 / max(1, size - seen[-2][0]))
    return size, last, ratio


def _next_share(seen: Sequence[tuple[int, float]], size: int) -> float:
    """The climb share a class is expected to keep at ``size``, from its ``(size, share)`` at the
    settled sizes: the last share, falling on by the last ratio per size it fell (:func:`_fall`).
    Nested climbs thin out as subsets grow — their floor is the union of more parents' masks
    (recorded, n = 12, three climbing parents, sizes 3–8: 95%, 75%, 51%, 46%, 17%, 4%) — so the
    last share held for every larger size expected 2–3× the climbs the middle levels took.
    """
    last_size, last, ratio = _fall(seen)
    return last * ratio ** max(0, size - last_size)


def _class_shares(images: Sequence[dict[int, int]], running: dict, cohorts: dict[int, Cohort],
                  open_sizes: Collection[int] = ()) -> dict[int, tuple[int, float, float]]:
    """Set :attr:`Cohort.p_class` of each size's cohort: the share of bound stops among its subsets
    with 0, 1, 2 and 3 or more climbing parents (:func:`_climbing_parents`).  A nested subset
    starts on the union of its parents' masks; a parent that climbed was polished onto the
    boundary of its own patches, so the more parents climbed, the likelier the union misses one of
    the subset's patches and it climbs too (recorded, n = 12, size 4: 1.5% with none, 74% with
    three).  The same rule sets who finishes first: a subset is ready once its parents are, so
    those without climbing parents finish at once and mostly on their bound — one share per size,
    read off the first finishers, called a level free that was not.  Within a class the first
    finishers are still the early-ready ones, so a class's share of climbs is never put below the
    one expected from the settled sizes (every subset of them finished: no one is missing;
    ``open_sizes``: the sizes of the first image still being solved) — the share at the largest,
    falling on as it fell between the last two (:func:`_next_share`) — and a class climbs at least
    as often as the one with a climbing parent less.  A class not seen yet at a size takes the
    share of the nearest smaller size that saw it, else the size's; two pseudo-subsets of that
    share temper a class seen only a few times.  Returns each class's fall (:func:`_fall`), which
    a size lent a smaller size's cohort applies too (:func:`_borrowed`).
    """
    counts: dict[tuple[int, int], list[float]] = {}  # (size, class) -> [started, bound stops]
    settled: dict[tuple[int, int], list[float]] = {}  # the same, over settled sizes only
    for j, its in enumerate(images):
        for s, it in its.items():
            key = (subset_size(s), _climbing_parents(s, _climbed_in(its)))
            for table in (counts, settled) if j or key[0] not in open_sizes else (counts,):
                item = table.setdefault(key, [0.0, 0.0])
                item[0] += 1
                item[1] += it == 1
    own = images[0] if images else {}
    for s, k in running.items():
        if int(k) >= 2:  # climbing (a bound stop ends at its first step)
            key = (subset_size(int(s)), _climbing_parents(int(s), _climbed_in(own)))
            counts.setdefault(key, [0.0, 0.0])[0] += 1
    prior: dict[int, float] = {}
    climbs: dict[int, list[tuple[int, float]]] = {}  # each class's (size, climb share) at the settled sizes
    for size in sorted(set(cohorts) | {k for k, _ in settled}):
        floor = {cls: 1.0 - _next_share(seen, size) for cls, seen in climbs.items()}  # the most bound stops
        cohort = cohorts.get(size)
        if size > 1 and cohort is not None and not cohort.p_class:  # (a borrowed cohort is set already)
            for cls in range(CLASSES + 1):
                started, bound = counts.get((size, cls), (0.0, 0.0))
                base = prior.get(cls, cohort.p_bound)
                if started:
                    prior[cls] = cohort.p_class[cls] = (bound + 2.0 * base) / (started + 2.0)
                elif cls in prior:
                    cohort.p_class[cls] = prior[cls]
                if cls in cohort.p_class and cls in floor:
                    cohort.p_class[cls] = min(cohort.p_class[cls], floor[cls])
                if cls - 1 in cohort.p_class:  # one more climbing parent never makes a climb less likely
                    cohort.p_class[cls] = min(cohort.p_class.get(cls, cohort.p_bound), cohort.p_class[cls - 1])
        for cls in range(CLASSES + 1):
            started, bound = settled.get((size, cls), (0.0, 0.0))
            if size > 1 and started >= SETTLED_MIN:
                climbs.setdefault(cls, []).append((size, 1.0 - bound / started))
    return {cls: _fall(seen) for cls, seen in climbs.items()}


def _cohorts(pairs: list[tuple[int, int]], running: dict, nested: bool, settle: float | None,
             budget: float | None, sizes: Iterable[int], by_class: bool = True) -> dict[int, Cohort]:
    """A :class:`Cohort` per subset size in ``sizes`` (all the same one unless ``nested``).  Under
    nesting a size with nothing finished or running borrows the nearest smaller size's cohort
    above 1 (the single patches climb from 0 and say little about subsets that start on their
    bound), else one that settles in ``settle``; each size's share of bound stops is split by
    how many parents climbed (:func:`_class_shares`, unless not ``by_class``; ``pairs``: images one
    after another, the first one the image of ``running``).
    """
    key = (lambda s: subset_size(s)) if nested else (lambda s: 0)
    finished: dict[int, list[int]] = {}
    censored: dict[int, list[int]] = {}
    for s, it in pairs:
        finished.setdefault(key(s), []).append(it)
    for s, k in running.items():
        if int(k) >= 2:  # one that has not finished its first step may yet stop on its bound
            censored.setdefault(key(int(s)), []).append(int(k))
    out: dict[int, Cohort] = {}
    for size in sorted({key(s) for s in sizes} | set(finished) | set(censored)):
        if size in finished or size in censored:
            prior = settle if (nested and size > 1) else None
            out[size] = Cohort(finished.get(size, []), censored.get(size, []), prior, budget)
    if not nested:
        return out
    falls = _class_shares(_images(pairs), running, out, {subset_size(s) for s in sizes}) if by_class else {}
    for size in sorted({subset_size(s) for s in sizes}):
        if size not in out:
            below = [o for o in out if 1 < o < size and out[o].known]
            out[size] = _borrowed(out[max(below)], max(below), size, falls) if below else \
                Cohort([], [], settle if size > 1 else None, budget)
    return out


def _borrowed(cohort: Cohort, source: int, size: int, falls: dict[int, tuple[int, float, float]]) -> Cohort:
    """``cohort`` of size ``source`` lent to a larger ``size`` nothing of which has finished: its
    climb shares per class fall on by each class's ratio per size (:func:`_fall`).
    """
    if not cohort.p_class or not any(ratio < 1.0 for _, _, ratio in falls.values()):
        return cohort
    lent = copy.copy(cohort)
    lent.p_class = {cls: 1.0 - (1.0 - p) * falls.get(cls, (0, 0.0, 1.0))[2] ** (size - source)
                    for cls, p in cohort.p_class.items()}
    return lent


def _replay(num: int, unsolved: Sequence[int], running: dict, cohorts: dict[int, Cohort], nested: bool,
            capacity: int | None, per_block: float,
            cohorts_climbed: frozenset = frozenset(), unit: int = 1) -> float | None:
    """Seconds to solve ``unsolved`` (bitmasks of a lattice of ``num`` subsets) the way the solver
    does (:func:`prsg_widgets.core.solver.simulate`, with ``capacity`` its batch size and ``unit``
    its rows per block) with ``running`` ``{subset: iterations run}`` in the batch and iterations
    drawn from ``cohorts``, each step priced at ``per_block`` seconds per packed block of ``unit``
    subsets; ``None`` when a cohort it
    needs knows nothing yet.  ``cohorts_climbed``: the solved subsets that climbed (took more than
    one iteration).
    """
    n = max(0, num.bit_length() - 1)
    todo = set(int(s) for s in unsolved)
    left: dict[int, float] = {}
    for s, k in running.items():
        if int(s) in todo and int(k) >= 2:  # (a subset at its first step is drawn like a waiting one)
            cohort = cohorts.get(subset_size(int(s)) if nested else 0)
            if cohort is None or not cohort.known:
                return None
            left[int(s)] = cohort.excess(int(k))
    climbing = set(left) | {s for s in range(num) if s not in todo and s in cohorts_climbed}
    expected = _expected(solve_order(todo - set(left), nested), cohorts, nested, n, climbing)
    if expected is None:
        return None
    schedule = simulate(nested, n, expected, capacity, running=left, unit=unit)
    blocks = sum(steps * max(1, -(-len(batch) // unit)) for steps, batch in schedule)
    return blocks * per_block


def _expected(waiting: list[int], cohorts: dict[int, Cohort], nested: bool, n: int,
              climbing: set[int]) -> dict[int, float] | None:
    """Iterations drawn for the ``waiting`` subsets (in solving order) from their cohorts, a level
    at a time; ``None`` when a cohort knows nothing yet.  Nested, the long draws go to the subsets
    with the most climbing parents: a subset whose bound came from climbs is the one likely to
    need its own.
    """
    groups: dict[int, list[int]] = {}
    for s in waiting:
        groups.setdefault(subset_size(s) if nested else 0, []).append(s)
    expected: dict[int, float] = {}
    for size in sorted(groups, reverse=not nested):
        cohort = cohorts.get(size)
        if cohort is None or not cohort.known:
            return None
        members, p_bound = _ranked(groups[size], cohort, nested, n, climbing)
        draws = cohort.draws(len(members), p_bound)
        expected.update(zip(members, draws, strict=True))
        climbing |= {s for s, v in zip(members, draws, strict=True) if v > 1}
    return expected


def _ranked(members: list[int], cohort: Cohort, nested: bool, n: int,
            climbing: set[int]) -> tuple[list[int], float | None]:
    """``members`` of one size, likeliest climbs first, and their mean share of bound stops: each
    subset's share is its class's (:func:`_climbing_parents`, nested; ``None``: the cohort's).
    The level's expected climbs are drawn together, so classes too small to expect a whole climb
    each still add up to the ones they hold.
    """
    if not nested or not members:
        return members, None
    count = {s: sum(1 for p in parents(s, n) if p in climbing) for s in members}
    if not cohort.p_class:  # one share: the long draws to the subsets with the most climbing parents
        return sorted(members, key=lambda s: -count[s]), None
    share = {s: cohort.p_class.get(min(CLASSES, c), cohort.p_bound) for s, c in count.items()}
    ranked = sorted(members, key=lambda s: (share[s], -count[s]))
    return ranked, sum(share.values()) / len(members)


def remaining_seconds(explanations: Sequence[Any], in_flight: Any, meter: RateMeter, nested: bool,
                      capacity: int | None = None, settle: float | None = None,
                      unit: int = 1, history: Sequence[Any] = ()) -> float | None:
    """Seconds left before every subset of ``explanations`` (of one explainer, solved one after
    another) is solved: the rest of each solve replayed (:func:`_replay`) with iterations from
    :class:`Cohort` estimates of the subsets solved and running, at ``meter``'s fitted step cost.

    ``in_flight`` is the scheduler's :class:`~prsg_widgets.backend.scheduler.InFlight` (or
    ``None``); ``capacity`` the solver's batch size (``None``: every waiting subset fits, as with
    the CPU's memory-sized batch); ``settle`` (nested): :func:`settle_iterations` of the solver
    settings; ``unit`` the solver's rows per block; ``history``: finished explanations of the
    same explainer, whose subsets (of the same ``n``) join the estimate — the first subsets of a
    solve to finish are its short ones and say little about when the bulk will.  ``None``
    (unknown) while the step cost is not measured yet or no subset of a size it needs has
    finished.
    """
    cost = meter.step_cost(unit)  # (one block: a step of ``unit`` subsets)
    if cost is None:
        return None
    per_block = cost(unit)
    flight_key = getattr(in_flight, "key", None)
    steps = dict(getattr(in_flight, "steps", {}) or {})
    budget = getattr(in_flight, "budget", None)
    total = 0.0
    for e in explanations:
        if not hasattr(e, "solved_mask"):
            continue
        solved = np.asarray(e.solved_mask())
        running = steps if getattr(e, "key", None) == flight_key else {}
        unsolved = [int(s) for s in np.flatnonzero(~solved)]
        if not unsolved:
            continue
        # finished subsets of this explanation (a solved one that never ran, as loaded from a
        # cache, says nothing about iterations)
        pairs = [(s, it) for s, it in solved_pairs(e) if it > 0]
        past = [(s, it) for h in history if h is not e and getattr(h, "n", None) == getattr(e, "n", None)
                for s, it in solved_pairs(h) if it > 0]
        cohorts = _cohorts(pairs + past, running, nested, settle, budget, unsolved)
        climbed = frozenset(s for s, it in pairs if it > 1)
        left = _replay(len(solved), unsolved, running, cohorts, nested, capacity, per_block, climbed, unit)
        if left is None:
            return None
        total += left
    if steps and total > 0:  # the step under way has been running since the last one: the clock moves
        total = max(0.0, total - min(meter.since_last(), per_block * max(1, -(-len(steps) // unit))))
    return total


def _solver_shape(explainer: Any, n: int, widest_seen: int) -> tuple[int | None, int]:
    """``(capacity, unit)`` of the explainer's solver at ``n`` patches: the batch — as set, or as
    the first steps of an independent solve showed it (``widest_seen``; a nested solve is limited
    by readiness, not by the CPU's memory-sized batch) — and the rows per block.
    """
    config, batch = explainer.config, explainer.batch_size
    capacity = batch or (None if config.nested else (widest_seen or None))
    unit = block_width(explainer.device, batch or (1 << 20), n, config.nested)
    return capacity, unit


def eta_for(explainer: Any, explanations: Sequence[Any]) -> float | None:
    """Seconds left before the unsolved ones of ``explanations`` (of ``explainer``) are all
    solved by the explainer's worker (:func:`remaining_seconds` with the explainer's solver
    settings, batch size and block width; the solved ones are its history), or ``None`` while
    that is not known yet.  Every explanation's finished subsets inform the others', so the second
    image of a pair is estimated from the first while the first is still being solved.
    """
    meter, config = explainer.scheduler.meter, explainer.config
    todo = [e for e in explanations if not e.is_complete]
    if not todo:
        return 0.0
    n = max(e.n for e in todo)
    capacity, unit = _solver_shape(explainer, n, meter.widest)
    return remaining_seconds(todo, explainer.in_flight(), meter, config.nested, capacity,
                             settle_iterations(config), unit, history=list(explanations))


def solve_estimate(explainer: Any, n: int, solved: Iterable[tuple[int, int]] = (),
                   meter: RateMeter | None = None) -> tuple[float, float | None]:
    """What a fresh solve of ``n`` patches would cost with ``explainer``: ``(subset-iterations,
    seconds)`` — the estimate shown before a solve starts.  The same model as the live ETA
    (:func:`remaining_seconds`): iterations per subset from :class:`Cohort` estimates of the
    ``solved`` ``(subset, iterations)`` pairs (per size when nested; with none, half the budget
    per subset, or :func:`settle_iterations` for a nested subset above one patch), the whole
    lattice replayed in the solver's order and batch, each step priced at ``meter``'s (default:
    the explainer's) fitted step cost.  Seconds are ``None`` before any step was timed.
    """
    config = explainer.config
    own = explainer.scheduler.meter
    meter = meter or own
    nested = config.nested
    subsets = list(range(1, 1 << n))
    settle = settle_iterations(config) if nested else None
    budget = float(config.iterations)
    pairs = [(int(s), int(it)) for s, it in solved if s and it > 0]
    # finished images hold no early finishers to correct for: each size's share as it was
    cohorts = _cohorts(pairs, {}, nested, settle, budget, subsets, by_class=False)
    counts = Counter(subset_size(s) if nested else 0 for s in subsets)
    prior = max(1.0, budget / 2)
    for key in counts:
        if key not in cohorts or not cohorts[key].known:
            cohorts[key] = Cohort([], [], settle if nested and key > 1 else prior, budget)
    iterations = float(sum(sum(cohorts[key].draws(count)) for key, count in counts.items()))
    # the widest batch seen says how many subsets the memory allows only on the explainer's own meter
    capacity, unit = _solver_shape(explainer, n, own.widest)
    cost = meter.step_cost(unit)
    seconds = None if cost is None else _replay(1 << n, subsets, {}, cohorts, nested, capacity, cost(unit),
                                                unit=unit)
    return iterations, seconds

