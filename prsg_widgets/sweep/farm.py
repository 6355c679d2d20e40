"""``Explainer(..., client=...)``: one explanation's solve farmed out to a Dask cluster.

The explainer's scheduler still owns the solve (futures, cancellation, progress, listeners); only
the work moves: the subsets to solve are cut into chunks, each chunk runs
:func:`~prsg_widgets.sweep.tasks.solve_chunk` on a worker (the task a sweep uses), which writes
its rows into the shared cache directory; as each chunk finishes, its rows are read back from disk
and handed to the scheduler like a local solver's results.  So the widgets keep working while a
cluster solves, and every row is on disk before anyone is told.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import torch

from ..core.solver import SolveInterrupted, SolveResult, worst_patch_mse

DEFAULT_CHUNK = 64
"""Subsets per task when the explainer has no ``batch_size`` (CPU-sized; give ``batch_size`` for GPUs)."""


def spec_of(explainer, model: str, cheap: bool, layer: Optional[str]):
    """The :class:`~prsg_widgets.sweep.tasks.ExplainerSpec` that rebuilds ``explainer`` on a worker."""
    from .tasks import ExplainerSpec

    if explainer.store.directory is None:
        raise ValueError("Explainer(client=...) needs cache_dir=: a folder every worker can write (the "
                         "results come back through it)")
    return ExplainerSpec(model=model, cache_dir=str(explainer.store.directory.resolve()), cheap=cheap, layer=layer,
                         grid=explainer.grid.size, solver=explainer.config, batch_size=explainer.batch_size,
                         baseline_samples=explainer.baseline_samples, baseline_seed=explainer.baseline_seed,
                         precision=explainer.precision, compile=explainer.compile,
                         channels_last=explainer.channels_last)


def run_on_cluster(job, todo: list[int], on_result: Callable[[SolveResult], None],
                   should_stop: Callable[[], bool]) -> None:
    """Solve ``todo`` of ``job`` (an explainer's solve job) on ``job.explainer.client``."""
    from distributed import as_completed

    from ..backend.store import SolveRecord
    from .tasks import load_from_disk, solve_chunk

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
            load_from_disk(ex.store, job.key, rec)
            rows = [s for s in todo if rec.solved[s] and not job.record.solved[s]]
            if rows:
                on_result(_result(rec, rows))
        lost = [s for s in todo if not job.record.solved[s]]
        if lost:
            raise RuntimeError(f"{len(lost)} subsets finished on the cluster are not in {ex.store.folder(job.key)}: "
                               "is the cache directory shared by the workers and this process?")
    except BaseException:
        client.cancel(futures)
        raise


def _result(rec, rows: list[int]) -> SolveResult:
    idx = np.asarray(rows, dtype=np.int64)
    pm = torch.from_numpy(rec.patch_mse[idx])
    return SolveResult(torch.from_numpy(idx), rec.features[torch.from_numpy(idx)], torch.from_numpy(rec.mse[idx]), pm,
                       worst_patch_mse(pm), torch.from_numpy(rec.feasible[idx]),
                       torch.from_numpy(rec.iterations[idx]), torch.full((len(rows),), float("nan")))
