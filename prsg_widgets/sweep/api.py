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

import dataclasses
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from ..backend.explainer import Explainer
from ..backend.settings import Settings
from .measures import MetricOptions, SweepMetric, metric_options
from .study import Study, scaled_k
from .tasks import ExplainerSpec, image_metrics, plan_image, solve_chunk

__all__ = ["sweep", "parse_seeds", "build_spec", "MAX_IMAGES"]

MAX_IMAGES = 100_000
"""The most images one sweep takes: every image is a Dask task and a row of study.json, and the
client holds them all (10^5 images ≈ a day of GPU time at the paper's settings)."""


def parse_seeds(seeds: str | int | Iterable[int]) -> list[int]:
    """Seeds from ``"0:64"`` (a range, end excluded), ``"0:64:2"``, ``"3,5,9"``, an int (that many
    seeds from 0) or an iterable of ints; a one-line ``ValueError`` otherwise.
    """
    from ..core.validate import check_seed, is_integer

    if isinstance(seeds, str):
        text = seeds.strip()
        try:
            if ":" in text:
                parts = [int(p) for p in text.split(":")]
                if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] <= 0):
                    raise ValueError
                many = len(range(*parts))  # counted before any list is built (0:10**9 would take GBs)
                if many > MAX_IMAGES:
                    raise OverflowError(many)
                out = list(range(*parts))
            else:
                out = [int(p) for p in text.split(",") if p.strip()]
        except OverflowError as many:
            raise ValueError(f"seeds {seeds!r} select {many.args[0]:,} images; a sweep takes at most "
                             f"{MAX_IMAGES:,} (split the study into several sweeps)") from None
        except ValueError:
            raise ValueError(f"seeds {seeds!r}: use START:STOP (e.g. 0:64, STOP excluded), "
                             "START:STOP:STEP or a list like 3,5,9") from None
    elif is_integer(seeds):
        if int(seeds) > MAX_IMAGES:  # type: ignore[arg-type]
            raise ValueError(f"seeds = {seeds} images; a sweep takes at most {MAX_IMAGES:,} "
                             "(split the study into several sweeps)")
        out = list(range(int(seeds)))  # type: ignore[arg-type]  # is_integer() checked that int() takes it
    else:
        try:
            out = list(seeds)  # type: ignore[arg-type]  # not an int here; a non-iterable is the TypeError below
        except TypeError:
            raise ValueError("seeds must be a range string like '0:64', a count or a list of ints, "
                             f"got {seeds!r}") from None
    out = [check_seed(s, "seed") for s in out]
    if not out:
        raise ValueError(f"seeds {seeds!r} select no image; e.g. 0:8")
    if len(out) > MAX_IMAGES:
        raise ValueError(f"seeds select {len(out):,} images; a sweep takes at most {MAX_IMAGES:,} "
                         "(split the study into several sweeps)")
    if len(set(out)) != len(out):
        raise ValueError(f"seeds {seeds!r} repeat a seed")
    return out


def build_spec(model: str | Settings | None = None, cache_dir: str | Path | None = None,
               **options) -> ExplainerSpec:
    """The :class:`ExplainerSpec` every worker builds its explainer from: ``model`` (a built-in
    name) or a :class:`~prsg_widgets.backend.settings.Settings`, with ``options`` (its fields, or
    solver settings such as ``iterations=…``) on top, checked by the Settings (before any cluster
    starts).  ``cache_dir`` (default: the settings') is resolved to an absolute path, which every
    worker must reach.
    """
    from ..core.errors import SettingsError

    if isinstance(model, Settings):
        settings = model.replace(**options) if options else model
    else:
        if model is not None:
            options["model"] = model
        settings = Settings.of(None, **options)
    if not isinstance(settings.model, str):
        raise SettingsError("sweeps take a model name, got a SplitGenerator; for your own generator, "
                            "register it by name with prsg_widgets.models.register_model(name, loader, layer) "
                            "(the sweep ships it to its workers) and pass the name")
    if settings.preset_name is None:
        raise SettingsError(f"a sweep's solver must be a preset name, got {type(settings.solver).__name__}; "
                            "give preset= and single solver settings as keywords (iterations=…)")
    cache_dir = settings.cache_dir if cache_dir is None else cache_dir
    if cache_dir is None:
        raise SettingsError("a sweep needs cache_dir: a folder every worker can write (the results come back "
                            "through it)")
    settings = dataclasses.replace(settings, cache_dir=str(Path(cache_dir).expanduser().resolve()))
    return ExplainerSpec(settings, factory=Explainer)


def sweep(
    model: str | Settings | None = None,
    seeds: str | int | Iterable[int] = "0:8",
    n: int | None = None,
    patches: Sequence[int] | None = None,
    same_patches: bool = True,
    out: str | Path | None = None,
    *,
    settings: Settings | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    gpus: bool = False,
    client=None,
    chunk: int | None = None,
    retries: int = 3,
    k_a: int | None = None,
    k_b: int | None = None,
    metrics: bool | MetricOptions | Sequence[str | SweepMetric] = True,
    progress: bool | str = "auto",
    fault_marker: str | None = None,
    **options,
) -> Study:
    """Explain the images of ``seeds`` (``"0:64"``, a list, or a count) over ``n`` patches (default
    4, or ``len(patches)``; a different ``n`` beside ``patches`` is an error) on a Dask cluster and
    return their :class:`Study` (also written to ``out`` when given).

    What is explained and how is a :class:`~prsg_widgets.backend.settings.Settings`: ``settings``
    and/or ``model`` (default ``"dcgan-faces"``), ``n``, ``patches`` and the keywords ``options`` —
    its fields (``preset``, ``cheap``, ``layer``, ``grid``, ``cache_dir``, ``batch_size``,
    ``device``, ``precision``, ``compile``, ``channels_last``, ``threads``, ``baseline_samples``,
    ``baseline_seed``) or single solver settings (``iterations=…``), all checked before a cluster
    starts.  ``threads``: torch threads per worker (default: cores ÷ workers for the embedded
    cluster, else the worker's own setting).

    Cluster: ``client`` (yours, left open), else ``scheduler="tcp://HOST:PORT"`` (join), else
    ``gpus=True`` (one worker per GPU), else a ``LocalCluster`` of ``workers`` processes (default:
    one per core), closed at the end.  Patches: ``patches`` ids for every image, or (default) the
    first image's foreground patches for every image (``same_patches=False``: each image its own,
    then transferability has no pairs unless positions coincide).

    Solves go to ``cache_dir`` (default ``out/cache``; on a multi-machine cluster a folder every
    worker shares): a rerun solves nothing already there.  ``chunk`` subsets per task (default 64
    on CPUs, a whole image on GPUs; nested presets always solve a whole image per task).
    ``k_a``/``k_b``: transferability's top-k (default: the paper's 20/100 of 511 scaled to n).
    ``metrics``: which per-image metrics (health and ranking are always computed): ``True`` (ρ,
    breach, inconsistency), ``False`` (none), their names (``["rho", "mine"]``, see
    :func:`~prsg_widgets.sweep.measures.register_metric`) or a
    :class:`~prsg_widgets.sweep.measures.MetricOptions`.  ``progress``: ``"auto"`` (a widget in
    notebooks, tqdm elsewhere), ``"tqdm"``, ``"widget"`` or ``False``.  ``fault_marker``: test hook
    of :func:`~prsg_widgets.sweep.tasks.solve_chunk`.
    """
    from .cluster import cluster_client
    from .preflight import preflight

    # ---- every argument is checked before a cluster starts
    seeds = parse_seeds(seeds)
    settings = _settings(model, settings, n, patches, options)
    n, patches = settings.num_patches, (None if settings.patches is None else sorted(settings.patches))
    k_a, k_b = scaled_k(n, k_a, k_b)
    out, cache_dir = _folders(out, settings.cache_dir)
    workers, retries, chunk = _cluster_arguments(scheduler, workers, retries, chunk)
    metrics = metric_options(metrics, top=max(k_a, k_b))
    spec = build_spec(_threads(settings, client is None and scheduler is None and not gpus, workers), cache_dir)
    preflight(spec.settings)
    chunk = _chunk_size(chunk, n, gpus, spec.settings)
    cache_dir.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    try:
        ran = _run(cluster_client(client, workers=workers, scheduler=scheduler, gpus=gpus), spec, seeds, n,
                   patches, same_patches, chunk, retries, metrics, progress, fault_marker)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"interrupted: solves that finished are kept in {cache_dir}; rerun the same "
                                "command to resume (only what is missing is solved)") from None
    study = Study(ran.images, _record(spec.settings, ran, seeds, same_patches, chunk, cache_dir),
                  ran.report(client, scheduler, gpus, time.perf_counter() - start), k_a, k_b)
    if out is not None:
        study.save(out)
    return study


def _settings(model, settings: Settings | None, n, patches, options: dict) -> Settings:
    """The sweep's :class:`Settings`: ``settings`` and/or ``model`` with ``n``, ``patches`` and
    ``options`` on top (explicit ids replace the settings' ``n``, and an explicit ``n`` their ids).
    """
    if isinstance(model, Settings):
        model, settings = None, model if settings is None else settings
    for name, value in (("model", model), ("n", n), ("patches", patches)):
        if value is not None:
            options[name] = value
    if patches is not None and n is None:
        options["n"] = None
    if n is not None and patches is None:
        options["patches"] = None
    return Settings.of(settings, **options)


def _folders(out, cache_dir) -> tuple[Path | None, Path]:
    """``out`` and where solves go: ``cache_dir``, else ``out/cache``, else the user's cache
    folder; both checked writable.
    """
    from ..core.validate import check_writable_dir

    out = None if out is None else check_writable_dir(out, "out")
    if cache_dir is None:
        if out is None:
            import platformdirs

            cache_dir = Path(platformdirs.user_cache_dir("prsg_widgets")) / "solves"
        else:
            cache_dir = out / "cache"
    return out, check_writable_dir(cache_dir, "cache_dir")


def _cluster_arguments(scheduler: str | None, workers: int | None, retries: int,
                       chunk: int | None) -> tuple[int | None, int, int | None]:
    """``workers``, ``retries`` and ``chunk`` checked (and ``scheduler``'s form); one-line errors."""
    from ..core.validate import check_int, check_positive_int
    from .cluster import check_scheduler_address

    if scheduler is not None:
        check_scheduler_address(scheduler)
    if workers is not None:
        workers = check_positive_int(workers, "workers", max=4096)
    retries = check_int(retries, "retries", min=0, max=100)
    if chunk is not None:
        chunk = check_positive_int(chunk, "chunk", max=1 << 30)
    return workers, retries, chunk


def _threads(settings: Settings, local: bool, workers: int | None) -> Settings:
    """``settings`` with torch threads per worker: cores ÷ workers on the embedded cluster
    unless set; elsewhere the worker's own setting.
    """
    from .cluster import cpu_count

    if settings.threads is None and local:
        settings = dataclasses.replace(settings, threads=max(1, cpu_count() // (workers or cpu_count())))
    return settings


def _chunk_size(chunk: int | None, n: int, gpus: bool, settings: Settings) -> int:
    """Subsets per task: ``chunk``, else a whole image on GPUs and 64 on CPUs; a nested preset
    always a whole image (every subset needs its maximal proper subsets first).
    """
    if chunk is None:
        chunk = (1 << n) if gpus or str(settings.device or "").startswith("cuda") else 64
    return (1 << n) if settings.config.nested else chunk


def _record(settings: Settings, ran: _Ran, seeds: list[int], same_patches: bool, chunk: int,
            cache_dir: Path) -> dict:
    """The study's ``settings``: what was explained and how."""
    layer_name = ran.images[0].get("layer") if ran.images else None
    return {"model": settings.model, "layer": layer_name or settings.layer or "default", "cheap": settings.cheap,
            "grid": settings.grid, "preset": settings.preset_name, "solver": settings.config.as_dict(),
            "n": settings.num_patches, "seeds": seeds, "same_patches": bool(same_patches), "patches": ran.patches,
            "batch_size": settings.batch_size, "chunk": chunk, **dataclasses.asdict(settings.execution),
            "cache_dir": str(cache_dir)}


class _Ran(NamedTuple):
    """What :func:`_run` saw on the cluster."""

    images: list[dict]
    plans: list[dict]
    futures: dict
    skipped: int
    solved_now: int
    link: str | None
    where: str
    patches: list[int] | None

    def report(self, client, scheduler: str | None, gpus: bool, seconds: float) -> dict:
        """The study's ``run``: where it ran, its tasks, what was solved now and what was found."""
        cluster = ("your client" if client is not None else f"scheduler {scheduler}" if scheduler is not None
                   else "LocalCUDACluster" if gpus else "LocalCluster")
        return {"cluster": cluster, "workers": self.where, "dashboard": self.link,
                "tasks": len(self.futures) + len(self.plans),
                "chunks": sum(1 for k, _ in self.futures.values() if k == "chunk"), "solved_now": self.solved_now,
                "skipped": self.skipped, "seconds": seconds}


def _planned(plans: list[dict]) -> list[dict]:
    """The plans, or the first setting a worker refused as one ``ValueError`` (no traceback)."""
    for p in plans:
        if "error" in p:
            raise ValueError(p["error"])
    return plans


def _run(context, spec, seeds, n, patches, same_patches, chunk, retries, metrics, progress, fault_marker) -> _Ran:
    """Plan, solve and measure every image on the cluster ``context`` opens; returns what
    :func:`sweep` reports.
    """
    from ..models import share_models
    from .cluster import dashboard_link, describe_client

    with context as cl:
        link = dashboard_link(cl)
        where = describe_client(cl)
        if progress not in (False, "none", None):
            print(f"Dask cluster: {where}" + (f"; dashboard {link}" if link else
                                                '; dashboard: pip install "bokeh>=3.1" to serve it'), flush=True)
        share_models(cl, [spec.settings.model])  # a model registered in this process: the workers lack it
        submit = lambda fn, *a: cl.submit(fn, *a, pure=False, retries=retries)  # noqa: E731
        if patches is None and same_patches:
            patches = _planned([submit(plan_image, spec, seeds[0], n, None).result()])[0]["patches"]
        plans = _planned(cl.gather([submit(plan_image, spec, s, n, patches if same_patches or patches else None)
                                    for s in seeds]))
        futures: dict = {}
        for p in plans:
            parts = [p["missing"][i:i + chunk] for i in range(0, len(p["missing"]), chunk)]
            chunks = [submit(solve_chunk, spec, p["seed"], p["patches"], part, fault_marker) for part in parts]
            futures.update({fut: ("chunk", len(part)) for fut, part in zip(chunks, parts, strict=True)})
            futures[submit(image_metrics, spec, p["seed"], p["patches"], metrics, *chunks)] = ("metrics", 1)
        missing = sum(len(p["missing"]) for p in plans)
        skipped = sum((1 << len(p["patches"])) - 1 - len(p["missing"]) for p in plans)  # ∅ is never solved
        images, solved_now = _collect(cl, futures, missing, len(plans), progress, link)
    return _Ran(images, plans, futures, skipped, solved_now, link, where, patches)


def _collect(cl, futures: dict, missing: int, count: int, progress, link) -> tuple[list[dict], int]:
    """Wait for ``futures`` (chunks and per-image metrics) with a progress bar of the ``missing``
    minimal features; the images' summaries and the number solved now.  On any failure (or
    Ctrl-C) the bar closes and the rest is cancelled.
    """
    from distributed import as_completed

    from .progress import Progress

    bar = Progress(missing, progress, desc="sweep", dashboard=link)  # minimal features, as the summary counts
    solved_now, images = 0, []
    try:
        for fut in as_completed(list(futures)):
            kind, size = futures[fut]
            result = fut.result()  # a task that failed for good raises here
            if kind == "chunk":
                solved_now += result["solved"]
                bar.update(size)
            else:
                images.append(result)
                bar.note(f"{len(images)}/{count} images measured")
    except BaseException:
        bar.close(ok=False)
        cl.cancel(list(futures))
        raise
    bar.close()
    return images, solved_now
