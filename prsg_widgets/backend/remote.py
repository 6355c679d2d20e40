"""Solving on other processes: an explainer rebuilt on a Dask worker, and an explainer's solve
farmed out to a cluster (``Explainer(..., client=...)``).

Every worker task takes an :class:`ExplainerSpec` — the explainer's
:class:`~prsg_widgets.backend.settings.Settings` and its class, small and picklable — and a
seed.  The model is loaded **once per worker process**: :func:`worker_explainer` keeps the
explainer in a process-global dict keyed by the spec, so the hundreds of chunks a worker runs
share one model, one baseline and one store.

Results travel through the shared cache directory, never through Dask: :func:`solve_chunk` solves
its subsets with :meth:`Explainer.solve`, whose store writes checksummed, write-once parts into
``cache_dir/<key>/`` (merged under a file lock), and returns only a small summary.  So a rerun
skips what any earlier run (or a worker lost half-way) has finished, and several worker processes,
on one machine or on many sharing a file system, can write parts of the same explanation at once.

:func:`run_on_cluster` is how an explainer with a ``client`` solves: its scheduler still owns the
solve (futures, cancellation, progress, listeners); only the work moves — chunks run
:func:`solve_chunk` on the workers, and as each finishes its rows are read back from disk and
handed to the scheduler like a local solver's results.  Dask is imported only here, and only when
a client is given.
"""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core.errors import SettingsError
from ..core.solver import SolveInterrupted, SolveResult
from .persistence.store import SolveRecord
from .settings import Settings

__all__ = ["ExplainerSpec", "worker_explainer", "worker_explanation", "solve_chunk", "forget_explainers",
           "spec_of", "run_on_cluster", "worker_address"]


@dataclass(frozen=True)
class ExplainerSpec:
    """Everything a worker needs to build the same :class:`~prsg_widgets.Explainer` as the caller:
    its :class:`~prsg_widgets.backend.settings.Settings` and the explainer class.

    ``settings.model`` must be a built-in name (every worker loads it) and ``settings.cache_dir``
    one folder every worker can read and write (a shared file system on a multi-machine
    cluster).  ``settings.threads`` sets ``torch.set_num_threads`` in the worker (None: leave it);
    ``settings.batch_size`` fixes the solver's batch so every worker computes exactly what a
    single process computes.  ``factory`` is the explainer class the worker builds
    (:class:`~prsg_widgets.backend.Explainer` or a subclass; pickled by reference), so this module
    never imports the explainer that uses it.
    """

    settings: Settings
    factory: Callable | None = None

    def token(self) -> str:
        """A stable string identifying the explainer (the worker cache key): the settings that
        make the explainer, so not ``threads``, ``progress`` or the default patches.
        """
        d = {f.name: getattr(self.settings, f.name) for f in fields(Settings)
             if f.name not in ("threads", "progress", "n", "patches")}
        d["solver"] = d["solver"] if isinstance(d["solver"], str) else d["solver"].as_dict()
        d["factory"] = None if self.factory is None else f"{self.factory.__module__}.{self.factory.__qualname__}"
        return json.dumps(d, sort_keys=True, default=str)

    def build(self):
        """A fresh explainer (no progress bars: workers are headless; no default patches: every
        task names its own, and explainers of one :meth:`token` are shared).
        """
        if self.factory is None:
            raise SettingsError("ExplainerSpec.factory is not set: give the explainer class (prsg_widgets.Explainer)")
        return self.factory(settings=dataclasses.replace(self.settings, progress=False, n=None, patches=None))


_EXPLAINERS: dict[str, Any] = {}  # built by spec.factory, a class this module never imports
_LOCK = threading.Lock()


def worker_explainer(spec: ExplainerSpec):
    """The explainer of ``spec`` in this process, built on first use and kept (one model per
    worker process, whatever the number of tasks).
    """
    token = spec.token()
    with _LOCK:
        threads = spec.settings.threads
        if threads:
            import torch

            if torch.get_num_threads() != int(threads):
                torch.set_num_threads(int(threads))
        ex = _EXPLAINERS.get(token)
        if ex is None:
            ex = _EXPLAINERS[token] = spec.build()
        return ex


def forget_explainers() -> None:
    """Close and drop every explainer this process keeps (tests; a long-lived worker)."""
    with _LOCK:
        for ex in _EXPLAINERS.values():
            ex.close()
        _EXPLAINERS.clear()


def worker_explanation(ex, seed: int, patches: Sequence[int]):
    """The explanation of ``seed`` over ``patches`` with everything on disk loaded into it.

    A worker's in-memory record is read from disk only when first made; other workers have written
    parts since, so the missing rows are read again (write-once parts: a row never changes).
    """
    expl = ex.explain(int(seed), patches=[int(p) for p in patches])
    if not expl.is_complete:
        ex.store.reload(expl.key)
    return expl


def worker_address() -> str:
    """The Dask address of the worker running this (``pid N`` outside Dask)."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


def solve_chunk(spec: ExplainerSpec, seed: int, patches: Sequence[int], subsets: Sequence[int],
                fault_marker: str | None = None) -> dict:
    """Solve ``subsets`` (bitmasks) of image ``seed`` over ``patches`` into the shared cache.

    Subsets already on disk are skipped.  Returns ``{"seed", "key", "subsets", "solved",
    "seconds", "worker"}`` (``solved``: how many this task computed).

    ``fault_marker`` is a test hook: when that file does not exist yet, the task creates it,
    solves half of its subsets (they reach the disk) and kills its own worker process — the way a
    lost machine looks to Dask.
    """
    ex = worker_explainer(spec)
    expl = worker_explanation(ex, seed, patches)
    solved = expl.solved_mask()
    todo = [int(s) for s in subsets if not solved[int(s)]]
    start = time.perf_counter()
    if fault_marker is not None and todo and not Path(fault_marker).exists():
        Path(fault_marker).write_text(worker_address())
        ex.solve(expl, todo[: max(1, len(todo) // 2)])
        os.kill(os.getpid(), signal.SIGKILL)
    if todo:
        ex.solve(expl, todo)
    return {"seed": int(seed), "key": expl.key, "subsets": len(subsets), "solved": len(todo),
            "seconds": time.perf_counter() - start, "worker": worker_address()}


DEFAULT_CHUNK = 64
"""Subsets per task when the explainer has no ``batch_size`` (CPU-sized; give ``batch_size`` for GPUs)."""


def spec_of(explainer) -> ExplainerSpec:
    """The :class:`ExplainerSpec` that rebuilds ``explainer`` on a worker (each worker picks its
    own device, as an explainer made there with ``device=None`` would).
    """
    if explainer.store.directory is None:
        raise SettingsError("Explainer(client=...) needs cache_dir=: a folder every worker can write (the "
                            "results come back through it)")
    # the precision as resolved here: the cache key says which one ran, whatever a worker's CPU has
    settings = dataclasses.replace(explainer.settings, cache_dir=str(explainer.store.directory.resolve()),
                                   device=None, precision=explainer.precision)
    return ExplainerSpec(settings, factory=type(explainer))


def run_on_cluster(job, todo: list[int], on_result: Callable[[SolveResult], None],
                   should_stop: Callable[[], bool]) -> None:
    """Solve ``todo`` of ``job`` (an explainer's solve job) on ``job.explainer.client``."""
    from distributed import as_completed

    ex, expl = job.explainer, job.explanation
    if expl.sample.seed is None:
        raise ValueError("Explainer(client=...) farms out samples made from a seed; this one was made from a "
                         "code or a feature (solve it without client=)")
    chunk = len(todo) if ex.config.nested else (ex.batch_size or DEFAULT_CHUNK)
    client = ex.client
    futures = [client.submit(solve_chunk, ex._spec, expl.sample.seed, list(expl.patches), todo[i:i + chunk],
                             pure=False, retries=3) for i in range(0, len(todo), chunk)]
    try:
        for fut in as_completed(futures):
            if should_stop():
                raise SolveInterrupted("cancelled; chunks already finished on the cluster are kept on disk")
            summary = fut.result()
            if summary["key"] != job.key:
                raise RuntimeError(
                    f"the cluster's workers explain another sample (cache key {summary['key']} ≠ {job.key}): "
                    "their device or settings differ from this explainer's; use the same device everywhere")
            rec = SolveRecord(expl.n, job.record.d)
            ex.store.reload(job.key, rec)
            rows = [s for s in todo if rec.solved[s] and not job.record.solved[s]]
            if rows:
                on_result(_result(rec, rows, expl.baseline))
        lost = [s for s in todo if not job.record.solved[s]]
        if lost:
            raise RuntimeError(f"{len(lost)} subsets finished on the cluster are not in {ex.store.folder(job.key)}: "
                               "is the cache directory shared by the workers and this process?")
    except BaseException:
        client.cancel(futures)
        raise


def _result(rec: SolveRecord, rows: list[int], baseline: torch.Tensor) -> SolveResult:
    """The result of ``rows`` read back from the cache into ``rec``: every field of the row schema,
    those no cache part holds (``max_patch_mse``, ``sparsity``) derived from the rows and ``b``.
    """
    arrays = rec.arrays(np.asarray(rows, dtype=np.int64))
    return SolveResult.from_rows({name: torch.from_numpy(a) for name, a in arrays.items()}, baseline)
