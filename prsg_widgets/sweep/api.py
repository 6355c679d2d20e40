"""``prsg_widgets.sweep(...)``: explain many images on a Dask cluster and study them together.

The caller never loads the model: workers do (once each).  Steps:

1. the patch positions ``N`` — given, or the first image's foreground (one task) — used by every
   image unless ``same_patches=False``;
2. one *plan* task per image: its cache key and which subsets are not on disk yet;
3. *chunk* tasks: (image, up to ``chunk`` missing subsets) each, so one large explanation spreads
   over the workers too; each writes its parts into the shared cache and returns a summary;
4. one *metrics* task per image, run when its chunks are done: health, ρ, breach, inconsistency,
   component ranking;
5. the :class:`~prsg_widgets.sweep.study.Study` across images (transferability over ordered
   pairs), written to ``out`` as ``study.json``, ``study.md`` and ``study.png``.

A lost worker's tasks are rescheduled by Dask (``retries`` covers tasks that raise); what it
finished is on disk already, so the retry, and any rerun, solves only what is missing.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

from .study import Study
from .tasks import ExplainerSpec, MetricOptions, image_metrics, plan_image, solve_chunk
from ..backend.explainer import Explainer

__all__ = ["sweep", "parse_seeds", "build_spec"]

PRECISIONS = ("fp32", "bf16")


def parse_seeds(seeds: Union[str, int, Iterable[int]]) -> list[int]:
    """Seeds from ``"0:64"`` (a range, end excluded), ``"0:64:2"``, ``"3,5,9"``, an int (that many
    seeds from 0) or an iterable of ints; a one-line ``ValueError`` otherwise."""
    from ..core.validate import check_seed, is_integer

    if isinstance(seeds, str):
        text = seeds.strip()
        try:
            if ":" in text:
                parts = [int(p) for p in text.split(":")]
                if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] <= 0):
                    raise ValueError
                out = list(range(*parts))
            else:
                out = [int(p) for p in text.split(",") if p.strip()]
        except ValueError:
            raise ValueError(f"seeds {seeds!r}: use START:STOP (e.g. 0:64, STOP excluded), "
                             "START:STOP:STEP or a list like 3,5,9") from None
    elif is_integer(seeds):
        out = list(range(int(seeds)))  # type: ignore[arg-type]  # is_integer() checked that int() takes it
    else:
        try:
            out = list(seeds)  # type: ignore[arg-type]  # not an int here; a non-iterable is the TypeError below
        except TypeError:
            raise ValueError(f"seeds must be a range string like '0:64', a count or a list of ints, got {seeds!r}") from None
    out = [check_seed(s, "seed") for s in out]
    if not out:
        raise ValueError(f"seeds {seeds!r} select no image; e.g. 0:8")
    if len(set(out)) != len(out):
        raise ValueError(f"seeds {seeds!r} repeat a seed")
    return out


def build_spec(model: str, cache_dir: Union[str, Path], *, cheap: bool = False, layer: Optional[str] = None,
               grid: int = 6, preset: str = "fast", batch_size: Optional[int] = None,
               device: Optional[str] = None, threads: Optional[int] = None, precision: str = "fp32",
               compile: bool = False, channels_last: bool = False, baseline_samples: int = 1000,
               baseline_seed: int = 0, **solver_overrides) -> ExplainerSpec:
    """An :class:`ExplainerSpec`, every setting checked here (before any cluster starts)."""
    from ..core.solver import get_solver_config
    from ..core.validate import check_positive_int, check_seed
    from ..models import MODELS

    if not isinstance(model, str) or model not in MODELS:
        raise ValueError(f"sweeps take a built-in model name ({', '.join(sorted(MODELS))}), got {model!r}; "
                         "for your own generator, register it as a built-in model on every worker")
    if not isinstance(preset, str):
        raise ValueError(f"preset must be a preset name, got {type(preset).__name__}")
    get_solver_config(preset, **solver_overrides)  # unknown or out-of-range settings fail here
    overrides = tuple(sorted((k, v) for k, v in solver_overrides.items() if v is not None))
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if device is not None and not isinstance(device, str):
        raise ValueError(f"device must be a string such as 'cpu' or 'cuda', got {device!r}")
    return ExplainerSpec(
        model=model, cache_dir=str(Path(cache_dir).expanduser().resolve()), cheap=bool(cheap), layer=layer,
        grid=check_positive_int(grid, "grid", max=4096), solver=preset, overrides=overrides,
        batch_size=None if batch_size is None else check_positive_int(batch_size, "batch_size", max=1 << 20),
        device=device, baseline_samples=check_positive_int(baseline_samples, "baseline_samples", max=10**7),
        baseline_seed=check_seed(baseline_seed, "baseline_seed"), threads=threads, precision=precision,
        compile=bool(compile), channels_last=bool(channels_last), factory=Explainer)


def sweep(
    model: str = "dcgan-faces",
    seeds: Union[str, int, Iterable[int]] = "0:8",
    n: Optional[int] = None,
    patches: Optional[Sequence[int]] = None,
    same_patches: bool = True,
    out: Union[str, Path, None] = None,
    *,
    workers: Optional[int] = None,
    scheduler: Optional[str] = None,
    gpus: bool = False,
    client=None,
    preset: str = "fast",
    cheap: bool = False,
    layer: Optional[str] = None,
    grid: int = 6,
    cache_dir: Union[str, Path, None] = None,
    batch_size: Optional[int] = None,
    device: Optional[str] = None,
    chunk: Optional[int] = None,
    retries: int = 3,
    k_a: Optional[int] = None,
    k_b: Optional[int] = None,
    metrics: Union[bool, MetricOptions] = True,
    progress: Union[bool, str] = "auto",
    precision: str = "fp32",
    compile: bool = False,
    channels_last: bool = False,
    threads: Optional[int] = None,
    fault_marker: Optional[str] = None,
    **solver_overrides,
) -> Study:
    """Explain the images of ``seeds`` (``"0:64"``, a list, or a count) over ``n`` patches (default
    4, or ``len(patches)``; a different ``n`` beside ``patches`` is an error) on a Dask cluster and return their :class:`Study` (also written to ``out`` when given).

    Cluster: ``client`` (yours, left open), else ``scheduler="tcp://HOST:PORT"`` (join), else
    ``gpus=True`` (one worker per GPU), else a ``LocalCluster`` of ``workers`` processes (default:
    one per core), closed at the end.  Patches: ``patches`` ids for every image, or (default) the
    first image's foreground patches for every image (``same_patches=False``: each image its own,
    then transferability has no pairs unless positions coincide).

    Solves go to ``cache_dir`` (default ``out/cache``; on a multi-machine cluster a folder every
    worker shares): a rerun solves nothing already there.  ``chunk`` subsets per task (default 64
    on CPUs, a whole image on GPUs; nested presets always solve a whole image per task).
    ``k_a``/``k_b``: transferability's top-k (default: the paper's 20/100 of 511 scaled to n).
    ``metrics=False`` skips ρ/breach/inconsistency (health and ranking are always computed), or
    pass a :class:`~prsg_widgets.sweep.tasks.MetricOptions`.  ``progress``: ``"auto"`` (a widget in
    notebooks, tqdm elsewhere), ``"tqdm"``, ``"widget"`` or ``False``.  ``precision``, ``compile``,
    ``channels_last``: the solver's execution options.  ``threads``: torch threads per worker
    (default: cores ÷ workers for the embedded cluster, else the worker's own setting).  Other keywords override solver settings
    (``iterations=…``).  ``fault_marker``: test hook of :func:`~prsg_widgets.sweep.tasks.solve_chunk`.
    """
    from ..core.solver import get_solver_config
    from ..core.validate import check_int, check_patch_ids, check_positive_int, check_writable_dir
    from .cluster import check_scheduler_address, cluster_client, cpu_count
    from .preflight import preflight

    # ---- every argument is checked before a cluster starts
    seeds = parse_seeds(seeds)
    if n is not None:
        n = check_positive_int(n, "n", max=30)
    if patches is not None:  # true, distinct ids ≥ 0; the grid's range is checked by preflight()
        patches = sorted(check_patch_ids(patches, None, what="patches"))
        if not patches:
            raise ValueError("patches is empty; give patch ids such as [3, 8] or leave it out")
        if n is not None and n != len(patches):
            raise ValueError(f"n={n} contradicts the {len(patches)} patch ids given; leave n out (it is len(patches))")
        n = len(patches)
    n = 4 if n is None else n
    if out is not None:
        out = check_writable_dir(out, "out")
    if cache_dir is None:
        if out is None:
            import platformdirs

            cache_dir = Path(platformdirs.user_cache_dir("prsg_widgets")) / "solves"
        else:
            cache_dir = out / "cache"
    cache_dir = check_writable_dir(cache_dir, "cache_dir")
    if scheduler is not None:
        check_scheduler_address(scheduler)
    if workers is not None:
        workers = check_positive_int(workers, "workers", max=4096)
    retries = check_int(retries, "retries", min=0, max=100)
    if chunk is not None:
        chunk = check_positive_int(chunk, "chunk", max=1 << 30)
    if metrics is True:
        metrics = MetricOptions()
    elif metrics is False:
        metrics = MetricOptions(rho=False, breach=False, inconsistency=False)
    elif not isinstance(metrics, MetricOptions):
        raise ValueError("metrics must be True, False or a MetricOptions")
    local = client is None and scheduler is None and not gpus
    if threads is not None:
        threads = check_positive_int(threads, "threads", max=4096)
    elif local:
        threads = max(1, cpu_count() // (workers or cpu_count()))
    preflight(model, layer=layer, cheap=cheap, grid=check_positive_int(grid, "grid", max=4096), n=n, patches=patches)
    spec = build_spec(model, cache_dir, cheap=cheap, layer=layer, grid=grid, preset=preset, batch_size=batch_size,
                      device=device, threads=threads, precision=precision, compile=compile,
                      channels_last=channels_last, **solver_overrides)
    config = get_solver_config(preset, **solver_overrides)
    from .study import scaled_k

    k_a, k_b = scaled_k(n, k_a, k_b)
    metrics = MetricOptions(**{**metrics.__dict__, "top": max(metrics.top, k_a, k_b)})
    on_gpu = gpus or (device or "").startswith("cuda")
    if chunk is None:
        chunk = (1 << n) if on_gpu else 64
    if config.nested:  # every subset needs its maximal proper subsets first: one task per image
        chunk = 1 << n
    cache_dir.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    solved_now = 0
    try:
        images, plans, futures, skipped, solved_now, link, where, patches = _run(
            cluster_client(client, workers=workers, scheduler=scheduler, gpus=gpus), spec, seeds, n, patches,
            same_patches, chunk, retries, metrics, progress, fault_marker)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"interrupted: solves that finished are kept in {cache_dir}; rerun the same "
                                "command to resume (only what is missing is solved)") from None
    seconds = time.perf_counter() - start
    layer_name = images[0].get("layer") if images else None
    settings = {"model": model, "layer": layer_name or layer or "default", "cheap": cheap, "grid": grid,
                "preset": preset, "solver": config.as_dict(), "n": n, "seeds": seeds, "same_patches": bool(same_patches),
                "patches": patches, "batch_size": batch_size, "chunk": chunk, "precision": precision,
                "compile": compile, "channels_last": channels_last, "cache_dir": str(cache_dir)}
    kind = ("your client" if client is not None else f"scheduler {scheduler}" if scheduler is not None
            else "LocalCUDACluster" if gpus else "LocalCluster")
    run = {"cluster": kind, "workers": where, "dashboard": link, "tasks": len(futures) + len(plans),
           "chunks": sum(1 for k, _ in futures.values() if k == "chunk"), "solved_now": solved_now,
           "skipped": skipped, "seconds": seconds}
    study = Study(images, settings, run, k_a, k_b)
    if out is not None:
        study.save(out)
    return study


def _planned(plans: list[dict]) -> list[dict]:
    """The plans, or the first setting a worker refused as one ``ValueError`` (no traceback)."""
    for p in plans:
        if "error" in p:
            raise ValueError(p["error"])
    return plans


def _run(context, spec, seeds, n, patches, same_patches, chunk, retries, metrics, progress, fault_marker):
    """Plan, solve and measure every image on the cluster ``context`` opens; returns what
    :func:`sweep` reports."""
    from distributed import as_completed

    from .cluster import dashboard_link, describe_client
    from .progress import Progress

    with context as cl:
        link = dashboard_link(cl)
        where = describe_client(cl)
        if progress not in (False, "none", None):
            print(f"Dask cluster: {where}" + (f"; dashboard {link}" if link else
                                                "; dashboard: pip install bokeh>=3.1 to serve it"), flush=True)
        submit = lambda fn, *a: cl.submit(fn, *a, pure=False, retries=retries)  # noqa: E731
        if patches is None and same_patches:
            patches = _planned([submit(plan_image, spec, seeds[0], n, None).result()])[0]["patches"]
        plans = _planned(cl.gather([submit(plan_image, spec, s, n, patches if same_patches or patches else None)
                                    for s in seeds]))
        missing = sum(len(p["missing"]) for p in plans)
        skipped = sum((1 << len(p["patches"])) - 1 - len(p["missing"]) for p in plans)  # ∅ is never solved
        bar = Progress(missing + len(plans), progress, desc="sweep", dashboard=link)
        futures = {}
        solved_now = 0
        images = []
        try:
            for p in plans:
                chunks = []
                for i in range(0, len(p["missing"]), chunk):
                    part = p["missing"][i:i + chunk]
                    fut = submit(solve_chunk, spec, p["seed"], p["patches"], part, fault_marker)
                    futures[fut] = ("chunk", len(part))
                    chunks.append(fut)
                fut = submit(image_metrics, spec, p["seed"], p["patches"], metrics, *chunks)
                futures[fut] = ("metrics", 1)
            for fut in as_completed(list(futures)):
                kind, size = futures[fut]
                result = fut.result()  # a task that failed for good raises here
                if kind == "chunk":
                    solved_now += result["solved"]
                else:
                    images.append(result)
                    bar.note(f"{len(images)}/{len(plans)} images measured")
                bar.update(size)
        except BaseException:
            bar.close(ok=False)
            cl.cancel(list(futures))
            raise
        bar.close()
    return images, plans, futures, skipped, solved_now, link, where, patches
