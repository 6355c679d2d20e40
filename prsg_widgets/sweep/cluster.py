"""Which Dask cluster a sweep runs on: an embedded ``LocalCluster`` (default), an existing
scheduler (``scheduler="tcp://host:8786"``: dask-jobqueue on SLURM/PBS, dask-kubernetes, or
``dask scheduler`` + ``dask worker`` by hand; see ``docs/cluster.md``), or one worker per GPU
(``gpus=True``: ``dask_cuda.LocalCUDACluster``, imported only then).

Errors are one line: a malformed or unreachable scheduler address, a port where something else
answers and one that never replies are each a ``ValueError`` within the timeout (5 s), a missing
optional package names the extra to install.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator

__all__ = ["make_client", "cluster_client", "worker_config", "dashboard_link", "cpu_count", "describe_client"]

# a host name, an IPv4 address or a bracketed IPv6 address ([::1]), then an optional port
_ADDRESS = re.compile(r"^(tcp|tls|ws|wss|ucx|inproc)://([^\s/:\[\]]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?/?$")


def cpu_count() -> int:
    """CPU cores this process may use (the affinity mask where there is one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def _distributed():
    try:
        import distributed
    except ModuleNotFoundError:
        raise ModuleNotFoundError("sweeps run on Dask: pip install 'prsg_widgets[cluster]' "
                                  "(dask[distributed])") from None
    return distributed


def check_scheduler_address(address: str) -> str:
    """``address`` when it looks like a Dask scheduler address (``tcp://host:port``), else a
    one-line ``ValueError``.
    """
    if not isinstance(address, str) or not _ADDRESS.match(address.strip()):
        raise ValueError(f"scheduler address {address!r} is not a Dask address; use tcp://HOST:PORT "
                         "(e.g. tcp://10.0.0.5:8786, printed by `dask scheduler`)")
    return address.strip()


def make_client(workers: int | None = None, scheduler: str | None = None, gpus: bool = False,
                threads_per_worker: int = 1, timeout: float = 5.0, dashboard: bool = True,
                torch_threads: int | None = None):
    """A ``distributed.Client``.

    * ``scheduler="tcp://HOST:PORT"``: join that cluster (its workers need this package and the
      model; the cache directory must be on a file system they share).  Unreachable within
      ``timeout`` seconds → ``ValueError``.
    * ``gpus=True``: ``dask_cuda.LocalCUDACluster``, one worker per visible GPU (``workers``
      limits how many); needs ``pip install 'prsg_widgets[gpu]'``.
    * else a ``LocalCluster`` of ``workers`` processes (default: one per core) with
      ``threads_per_worker`` task threads each, dashboard on a free port.  Each worker's torch
      uses ``torch_threads`` cores (default: cores ÷ workers); see :func:`worker_config`.

    Close it with ``client.close(); client.cluster.close()`` or use :func:`cluster_client`.
    """
    if scheduler is not None and (workers is not None or gpus):
        raise ValueError("give either scheduler= (join a cluster) or workers=/gpus= (start one), not both")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a whole number ≥ 1, got {workers!r}")
    distributed = _distributed()
    if scheduler is not None:
        from .preflight import probe_scheduler

        address = check_scheduler_address(scheduler)
        probe_scheduler(address, timeout)  # nothing there, a silent port, or not a scheduler: one line
        try:
            return distributed.Client(address, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"cannot reach a Dask scheduler at {address} within {timeout:g} s "
                             f"({type(exc).__name__}); start one (`dask scheduler`), check the address, "
                             "or leave --scheduler out for a local cluster") from None
    dash = ":0" if dashboard else None  # a free port: several clusters may run side by side
    if gpus:
        try:
            from dask_cuda import LocalCUDACluster
        except ModuleNotFoundError:
            raise ModuleNotFoundError("--gpus needs dask-cuda: pip install 'prsg_widgets[gpu]'") from None
        import torch

        if not torch.cuda.is_available():
            raise ValueError("--gpus: no CUDA device here; leave --gpus out to run on the CPU cores")
        import dask

        count = torch.cuda.device_count()
        k = min(count, workers or count)
        visible = ",".join(str(i) for i in range(k))
        with dask.config.set(worker_config(str(torch_threads or max(1, cpu_count() // k)))):
            cluster = LocalCUDACluster(CUDA_VISIBLE_DEVICES=visible, threads_per_worker=threads_per_worker,
                                       dashboard_address=dash, silence_logs=logging.ERROR)
    else:
        import dask

        k = workers or cpu_count()
        t = str(torch_threads or max(1, cpu_count() // k))
        with dask.config.set(worker_config(t)):
            cluster = distributed.LocalCluster(n_workers=k, threads_per_worker=threads_per_worker, processes=True,
                                               dashboard_address=dash, silence_logs=logging.ERROR)
    try:
        return distributed.Client(cluster)
    except BaseException:
        cluster.close()
        raise


def worker_config(torch_threads: str) -> dict:
    """Dask settings for workers that run torch (the embedded cluster uses them; set them in your
    own cluster's config too).

    * Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers, which makes glibc hand
      every large tensor's memory back to the system and fault it in again: the solver ran 1.7×
      slower with it (measured on toy-scenes, 2 cores).  Unset here.
    * ``OMP_NUM_THREADS`` (Dask's default 1) must be set before torch loads: the solve runs on a
      thread of its own, and OpenMP gives a new thread the environment's count, not one set later
      with ``torch.set_num_threads``.
    * The worker's statistical profiler (a sample every 10 ms) is off.
    """
    env = "distributed.nanny.pre-spawn-environ"
    return {f"{env}.MALLOC_TRIM_THRESHOLD_": None, f"{env}.OMP_NUM_THREADS": torch_threads,
            f"{env}.MKL_NUM_THREADS": torch_threads, f"{env}.OPENBLAS_NUM_THREADS": torch_threads,
            "distributed.worker.profile.enabled": False}


@contextlib.contextmanager
def cluster_client(client=None, **kwargs) -> Iterator:
    """``client`` itself when given (left open), else :func:`make_client(**kwargs)` closed on exit
    (with the cluster it started).
    """
    if client is not None:
        yield client
        return
    own = make_client(**kwargs)
    try:
        yield own
    finally:
        cluster = getattr(own, "cluster", None)
        own.close()
        if cluster is not None and kwargs.get("scheduler") is None:
            cluster.close()


def _has_bokeh() -> bool:
    try:
        import bokeh  # noqa: F401
    except ModuleNotFoundError:
        return False
    return True


def dashboard_link(client) -> str | None:
    """The Dask dashboard's address, or ``None`` when it is not served (bokeh not installed)."""
    if not _has_bokeh() or client.scheduler_info().get("services", {}).get("dashboard") is None:
        return None
    try:
        return client.dashboard_link
    except Exception:  # noqa: BLE001 - no dashboard configured
        return None


def describe_client(client) -> str:
    """``"2 workers, 2 threads"`` style summary of the cluster behind ``client``."""
    workers = client.scheduler_info().get("workers", {})
    threads = sum(w.get("nthreads", 0) for w in workers.values())
    return f"{len(workers)} worker{'s' if len(workers) != 1 else ''}, {threads} thread{'s' if threads != 1 else ''}"
