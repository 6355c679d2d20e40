"""The one owner of solving: a worker thread, its queue, batching, futures, cancellation, progress.

Callers (widgets, notebooks, the CLI) submit *requests* — some subsets of one explanation — and get
a :class:`concurrent.futures.Future` at once.  The worker takes the oldest request, merges every
queued request for the same explanation into one batched solve, hands each finished group of
subsets to the :class:`~prsg_widgets.backend.persistence.store.Store`, and resolves a request's future only
after its subsets are stored *and* on disk.  :meth:`Scheduler.cancel` stops the running solve at
its next iteration and fails every request queued before it with
:class:`~prsg_widgets.core.solver.SolveInterrupted`; finished subsets stay stored.
:meth:`Scheduler.close` cancels and joins the worker, so no thread outlives its owner.
"""
from __future__ import annotations

import atexit
import concurrent.futures as cf
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..core.solver import SolveInterrupted, SolveResult
from .persistence.store import SolveRecord, Store
from .progress import RateMeter

ProgressCallback = Callable[[int, int], None]
SAVE_EVERY_S = 2.0
"""Seconds between disk writes during a long solve (a request's end always writes)."""


@dataclass(frozen=True)
class InFlight:
    """What the worker is solving now: the explanation ``key``, each subset in the batch with the
    iterations it has run since its (re)start, the per-start ``budget``, and how many subsets of
    this solve wait for a slot.
    """

    key: str
    steps: dict
    budget: int
    queued: int


class Job(Protocol):
    """What the scheduler needs to solve one explanation (made by the explainer)."""

    key: str
    record: SolveRecord
    owner: object  # handed to listeners
    budget: int  # iterations per start of one subset (for progress displays)

    def plan(self, wanted: set[int]) -> list[int]:
        """The subsets to solve for ``wanted`` (unsolved ones, plus any the method needs first)."""

    def run(self, todo: list[int], on_result: Callable[[SolveResult], None],
            should_stop: Callable[[], bool], on_step: Callable[[dict], None]) -> None:
        """Solve ``todo``, calling ``on_result`` for each finished group and ``on_step`` with the
        batch's ``{subset: iterations}`` once per batched iteration.
        """


@dataclass
class _Request:
    job: Job
    subsets: np.ndarray
    future: cf.Future
    on_progress: ProgressCallback | None
    generation: int
    total: int = field(init=False)

    def __post_init__(self) -> None:
        self.total = len(self.subsets)

    def solved(self) -> int:
        return int(self.job.record.solved[self.subsets].sum())

    def done(self) -> bool:
        return self.solved() == self.total


class Scheduler:
    """Runs solve requests on one worker thread, storing results in ``store``."""

    def __init__(self, store: Store, name: str = "prsg-solver") -> None:
        self.store = store
        self.name = name
        self._queue: list[_Request] = []
        self._cv = threading.Condition()
        self._generation = 0  # bumped by cancel(): requests and solves of older generations stop
        self._worker: threading.Thread | None = None
        self.busy = False
        self.steps = 0
        """Batched solver iterations run so far (a heartbeat for progress displays and ETAs)."""
        self._in_flight: InFlight | None = None
        self.meter = RateMeter()
        """Subset-iterations per second measured on this worker (:mod:`.progress`, for ETAs)."""
        ref = weakref.ref(self)

        def close_at_exit() -> None:  # a solve still running at exit is stopped and its results saved
            scheduler = ref()
            if scheduler is not None:
                scheduler.close()

        atexit.register(close_at_exit)

    # ------------------------------------------------------------------ public
    def submit(self, job: Job, subsets: list[int], on_progress: ProgressCallback | None = None,
               here: bool = False) -> cf.Future:
        """Queue ``subsets`` of ``job``; the future resolves to ``job.owner`` once they are stored
        (and on disk, when the store has a directory).

        ``here=True`` (a caller that will wait anyway): when no worker is running, the calling
        thread runs the queue itself and returns a done future.  The solve is then as fast as in
        the thread that loaded the model: on 2 cores a solve in a second thread ran 25–40% slower
        (libgomp throttles its spin-waits once two threads own OpenMP teams), and a Ctrl-C
        lands in the solve, which keeps what finished.
        """
        fut: cf.Future = cf.Future()
        with self._cv:
            req = _Request(job, np.asarray(sorted(set(subsets)), dtype=np.int64), fut, on_progress, self._generation)
            if req.done():
                fut.set_result(job.owner)
                return fut
            self._queue.append(req)
            idle = self._worker is None or not self._worker.is_alive()
            if idle and here:
                self._worker = threading.current_thread()
            elif idle:
                self._worker = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._worker.start()
            self._cv.notify_all()
        if idle and here:
            try:
                self._run()
            finally:
                with self._cv:  # a Ctrl-C outside the solve itself must not leave the queue owned
                    if self._worker is threading.current_thread():
                        self._worker = None
                        self.busy = False
                    self._cv.notify_all()
        return fut

    def cancel(self) -> None:
        """Stop the running solve and fail every queued request (finished subsets are kept)."""
        with self._cv:
            self._generation += 1
            self._cv.notify_all()

    def in_flight(self) -> InFlight | None:
        """A snapshot of the running solve's batch (``None`` when idle); safe from any thread."""
        return self._in_flight

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until the worker has nothing left to do (or ``timeout`` s); True when idle."""
        with self._cv:
            worker = self._worker
            if worker is None or worker is threading.current_thread():
                return True
            if worker.name != self.name:  # a caller running the queue itself (``submit(here=True)``)
                return self._cv.wait_for(lambda: self._worker is None, timeout)
        worker.join(timeout)
        return not worker.is_alive()

    def close(self, timeout: float | None = None) -> None:
        """Cancel everything and join the worker (its results are stored and saved first).  A
        Ctrl-C while waiting does not abandon the save in progress.
        """
        self.cancel()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                self.wait_idle(left)
                return
            except KeyboardInterrupt:
                continue

    def __enter__(self) -> Scheduler:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ worker
    def _run(self) -> None:
        while True:
            with self._cv:
                stale = [r for r in self._queue if r.generation != self._generation]
                for r in stale:
                    self._queue.remove(r)
                if not self._queue:
                    self.busy = False
                    self._worker = None
                    self._cv.notify_all()
                    self._fail(stale, SolveInterrupted("cancelled before it started; finished subsets are kept"))
                    return
                job = self._queue[0].job
                group = [r for r in self._queue if r.job.key == job.key]
                generation = self._generation
                self.busy = True
            self._fail(stale, SolveInterrupted("cancelled before it started; finished subsets are kept"))
            error = self._solve(job, group, generation)
            with self._cv:
                for r in group:
                    if r in self._queue:
                        self._queue.remove(r)
            if error is not None:
                self._fail(group, error)
            else:
                for r in group:
                    self._settle(r)

    def _solve(self, job: Job, group: list[_Request], generation: int) -> BaseException | None:
        wanted = set().union(*(r.subsets.tolist() for r in group))
        last_save = [time.monotonic()]
        todo: list[int] = []
        landed = [0]

        def on_step(steps: dict) -> None:
            self.meter.add(steps)  # the meter prices this batch by its packed blocks
            self._in_flight = InFlight(job.key, steps, job.budget, max(0, len(todo) - landed[0] - len(steps)))

        def should_stop() -> bool:
            self.steps += 1
            return self._generation != generation

        def on_result(res: SolveResult) -> None:
            rows = self.store.put(job.key, res, job.record)
            landed[0] += len(rows)
            finished = [r for r in group if not r.future.done() and r.done()]
            if finished or time.monotonic() - last_save[0] > SAVE_EVERY_S:
                self.store.flush(job.key)  # on disk before any caller is told
                last_save[0] = time.monotonic()
            for r in group:
                if r.on_progress is not None:
                    r.on_progress(r.solved(), r.total)
            self.store.notify(job.record, job.owner, rows)
            for r in finished:
                self._settle(r)

        try:
            todo = job.plan(wanted)
            job.run(todo, on_result, should_stop, on_step)
            return None
        except BaseException as exc:  # handed to the waiting futures
            return exc
        finally:
            self._in_flight = None
            try:
                self.store.flush(job.key)
                self.store.compact(job.key)
            except OSError as exc:  # the disk failed: the results stay in memory
                for r in group:
                    if not r.future.done():
                        r.future.set_exception(exc)

    @staticmethod
    def _settle(r: _Request) -> None:
        if not r.future.done():
            r.future.set_result(r.job.owner)

    @staticmethod
    def _fail(requests: list[_Request], error: BaseException) -> None:
        for r in requests:
            if not r.future.done():
                r.future.set_exception(error)
