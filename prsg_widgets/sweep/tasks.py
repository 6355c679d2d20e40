"""What a Dask worker runs: plan an image, solve a chunk of its subsets, measure it.

Every task takes an :class:`ExplainerSpec` — a small, picklable description of an
:class:`~prsg_widgets.Explainer` — and a seed.  The model is loaded **once per worker process**:
:func:`worker_explainer` keeps the explainer in a process-global dict keyed by the spec, so the
hundreds of chunks a worker runs share one model, one baseline and one store.

Results travel through the shared cache directory, never through Dask: a chunk solves its subsets
with :meth:`Explainer.solve`, whose store writes checksummed, write-once parts into
``cache_dir/<key>/`` (merged under a file lock), and the task returns only a small summary.  So a
rerun skips what any earlier run (or a worker lost half-way) has finished, and several worker
processes, on one machine or on many sharing a file system, can write parts of the same
explanation at once.
"""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

__all__ = ["ExplainerSpec", "worker_explainer", "plan_image", "solve_chunk", "image_metrics",
           "forget_explainers", "load_from_disk"]


@dataclass(frozen=True)
class ExplainerSpec:
    """Everything a worker needs to build the same :class:`~prsg_widgets.Explainer` as the caller.

    ``solver`` is a preset name or a ``SolverConfig``; ``overrides`` single solver settings as sorted ``(name, value)``
    pairs.  ``cache_dir`` must be one folder every worker can read and write (a shared file system
    on a multi-machine cluster).  ``threads`` sets ``torch.set_num_threads`` in the worker (None:
    leave it).  ``batch_size``/``unit`` fix the solver's batch so every worker computes exactly
    what a single process computes.  ``precision``/``compile``/``channels_last`` are the solver's
    execution options (see :func:`~prsg_widgets.core.solver.solve_minimal_features`).
    """

    model: str
    cache_dir: str
    cheap: bool = False
    layer: Optional[str] = None
    grid: int = 6
    solver: Union[str, "SolverConfig"] = "fast"  # noqa: F821 - a preset name or a SolverConfig
    overrides: tuple = ()
    batch_size: Optional[int] = None
    device: Optional[str] = None
    baseline_samples: int = 1000
    baseline_seed: int = 0
    threads: Optional[int] = None
    precision: str = "fp32"
    compile: bool = False
    channels_last: bool = False

    def token(self) -> str:
        """A stable string identifying the explainer (the worker cache key); ``threads`` is not
        part of it."""
        d = asdict(self)
        d.pop("threads")
        return json.dumps(d, sort_keys=True, default=str)

    def build(self):
        """A fresh explainer (no progress bars: workers are headless)."""
        from ..backend import Explainer

        options = {}
        if self.precision != "fp32" or self.compile or self.channels_last:
            options = dict(precision=self.precision, compile=self.compile, channels_last=self.channels_last)
        return Explainer(self.model, grid=self.grid, device=self.device, solver=self.solver,
                         batch_size=self.batch_size, cache_dir=self.cache_dir, layer=self.layer,
                         cheap=self.cheap, baseline_samples=self.baseline_samples,
                         baseline_seed=self.baseline_seed, progress=False, **options, **dict(self.overrides))


_EXPLAINERS: dict[str, object] = {}
_LOCK = threading.Lock()


def worker_explainer(spec: ExplainerSpec):
    """The explainer of ``spec`` in this process, built on first use and kept (one model per
    worker process, whatever the number of tasks)."""
    token = spec.token()
    with _LOCK:
        if spec.threads:
            import torch

            if torch.get_num_threads() != int(spec.threads):
                torch.set_num_threads(int(spec.threads))
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


def _explanation(ex, seed: int, patches: Sequence[int]):
    """The explanation of ``seed`` over ``patches`` with everything on disk loaded into it.

    A worker's in-memory record is read from disk only when first made; other workers have written
    parts since, so the missing rows are read again (write-once parts: a row never changes)."""
    expl = ex.explain(int(seed), patches=[int(p) for p in patches])
    if not expl._record.solved.all():
        load_from_disk(ex.store, expl.key, expl._record)
    return expl


def load_from_disk(store, key: str, record) -> None:
    """Read every part of ``key`` into ``record`` under the folder's lock, so a merge by another
    process (which writes the merged part, then deletes the ones it read) is never seen half-done."""
    from filelock import FileLock

    folder = store.folder(key)
    if folder is None or not folder.is_dir():
        return
    with FileLock(str(folder / ".lock"), timeout=120):
        store._load_parts(key, record)  # noqa: SLF001 - the store's own reader, for rows others wrote


def _where() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


def plan_image(spec: ExplainerSpec, seed: int, n: Optional[int] = None,
               patches: Optional[Sequence[int]] = None) -> dict:
    """Choose the patches of image ``seed`` (``patches`` given, or ``n`` on its foreground) and
    say which of its subsets are not on disk yet: ``{"seed", "patches", "key", "missing"}``."""
    ex = worker_explainer(spec)
    if patches is None:
        patches = ex.explain(int(seed), n=n).patches
    expl = _explanation(ex, seed, patches)
    return {"seed": int(seed), "patches": list(expl.patches), "key": expl.key,
            "missing": np.flatnonzero(~expl._record.solved).tolist()}


def solve_chunk(spec: ExplainerSpec, seed: int, patches: Sequence[int], subsets: Sequence[int],
                fault_marker: Optional[str] = None) -> dict:
    """Solve ``subsets`` (bitmasks) of image ``seed`` over ``patches`` into the shared cache.

    Subsets already on disk are skipped.  Returns ``{"seed", "key", "subsets", "solved",
    "seconds", "worker"}`` (``solved``: how many this task computed).

    ``fault_marker`` is a test hook: when that file does not exist yet, the task creates it,
    solves half of its subsets (they reach the disk) and kills its own worker process — the way a
    lost machine looks to Dask."""
    ex = worker_explainer(spec)
    expl = _explanation(ex, seed, patches)
    solved = expl._record.solved
    todo = [int(s) for s in subsets if not solved[int(s)]]
    start = time.perf_counter()
    if fault_marker is not None and todo and not Path(fault_marker).exists():
        Path(fault_marker).write_text(_where())
        ex.solve(expl, todo[: max(1, len(todo) // 2)])
        os.kill(os.getpid(), signal.SIGKILL)
    if todo:
        ex.solve(expl, todo)
    return {"seed": int(seed), "key": expl.key, "subsets": len(subsets), "solved": len(todo),
            "seconds": time.perf_counter() - start, "worker": _where()}


@dataclass(frozen=True)
class MetricOptions:
    """What :func:`image_metrics` measures per image.

    ``top``: components ranked and returned (for transferability; at least ``k_b``); ``rho_top``:
    the strongest components whose ρ is measured; ``inconsistency_top`` components with at most
    ``max_contexts`` contexts each; ``breach``: boundary breach of every patch (all components).
    """

    top: int = 100
    rho_top: int = 100
    inconsistency_top: int = 3
    max_contexts: int = 8
    breach: bool = True
    rho: bool = True
    inconsistency: bool = True


def _finite(x) -> Optional[float]:
    x = float(x)
    return x if np.isfinite(x) else None


def image_metrics(spec: ExplainerSpec, seed: int, patches: Sequence[int], options: MetricOptions,
                  *after) -> dict:
    """The per-image numbers of a study (health, ρ, breach, inconsistency and the component
    ranking), computed from the cache once the image is solved.  ``after``: the image's chunk
    futures (Dask runs this task when they are done; their values are not used)."""
    from .. import metrics as M

    ex = worker_explainer(spec)
    expl = _explanation(ex, seed, patches)
    if not expl.is_complete:  # a chunk was lost for good: solve the rest here
        expl.solve_all()
    start = time.perf_counter()
    health = expl.health()
    ranking = expl.ranking()[: options.top]
    out = {
        "seed": int(seed), "patches": list(expl.patches), "key": expl.key, "n": expl.n,
        "model": spec.model, "layer": ex.generator.layer,
        "health": {k: (_finite(v) if isinstance(v, float) else v) for k, v in health.as_dict().items()},
        "warnings": health.warnings(),
        "top": [[int(s), expl.subset_patches(s), float(norm)] for s, norm in ranking],
    }
    if options.rho:
        picked = [s for s, _ in ranking[: options.rho_top]]
        rho = M.real_action_field_ratios(expl, picked)
        area = M.action_field_area(expl, picked)
        out["rho"] = {"mean": _finite(np.nanmean(rho)) if len(rho) else None,
                      "chance": _finite(np.mean(area)) if len(area) else None,
                      "values": [_finite(v) for v in rho]}
    if options.breach:
        ratios = [M.boundary_breach(expl, p).breach_ratio for p in expl.patches]
        out["breach"] = {"mean": _finite(np.nanmean(ratios)) if np.isfinite(ratios).any() else None,
                         "per_patch": [_finite(v) for v in ratios]}
    if options.inconsistency:
        cands = [s for s, _ in ranking if s != expl.full][: options.inconsistency_top]
        vals = [M.inconsistency(expl, s, max_contexts=options.max_contexts, seed=int(seed)).mean for s in cands]
        out["inconsistency"] = {"mean": _finite(np.nanmean(vals)) if np.isfinite(vals).any() else None,
                                "subsets": cands, "values": [_finite(v) for v in vals]}
    out["metrics_seconds"] = time.perf_counter() - start
    out["worker"] = _where()
    return out
