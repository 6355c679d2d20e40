"""What a Dask worker runs for a study: plan an image, measure it.

Solving a chunk of an image's subsets is the backend's worker task
(:func:`prsg_widgets.backend.remote.solve_chunk`, re-exported here with the explainer a worker
keeps per spec); this module adds the study's own tasks: :func:`plan_image` (which patches, which
subsets are missing) and :func:`image_metrics` (health, ρ, breach, inconsistency and the ranking
of one solved image, read from the shared cache).
"""
from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from ..backend.remote import (
    ExplainerSpec,
    forget_explainers,
    solve_chunk,
    worker_address,
    worker_explainer,
    worker_explanation,
)
from .measures import MetricOptions, SweepImage, finite

__all__ = ["ExplainerSpec", "MetricOptions", "worker_explainer", "plan_image", "solve_chunk", "image_metrics",
           "forget_explainers"]


def plan_image(spec: ExplainerSpec, seed: int, n: int | None = None,
               patches: Sequence[int] | None = None) -> dict:
    """Choose the patches of image ``seed`` (``patches`` given, or ``n`` on its foreground) and
    say which of its subsets are not on disk yet: ``{"seed", "patches", "key", "missing"}``.

    A setting the model refuses (a layer, patch ids, ``n``) comes back as ``{"error": message}``
    instead of raising, so the caller reports it in one line, without a worker traceback.
    """
    try:
        ex = worker_explainer(spec)
        if patches is None:
            patches = ex.explain(int(seed), n=n).patches
        expl = worker_explanation(ex, seed, patches)
    except (ValueError, KeyError) as exc:
        return {"seed": int(seed), "error": " ".join(str(exc).split()) or type(exc).__name__}
    return {"seed": int(seed), "patches": list(expl.patches), "key": expl.key,
            "missing": np.flatnonzero(~expl.solved_mask()).tolist()}


def image_metrics(spec: ExplainerSpec, seed: int, patches: Sequence[int], options: MetricOptions,
                  *after) -> dict:
    """The per-image numbers of a study (health, the component ranking, then each metric
    ``options`` chooses: ρ, breach, inconsistency, yours — see :mod:`.measures`), computed from
    the cache once the image is solved.  ``after``: the image's chunk
    futures (Dask runs this task when they are done; their values are not used).
    """
    ex = worker_explainer(spec)
    expl = worker_explanation(ex, seed, patches)
    if not expl.is_complete:  # a chunk was lost for good: solve the rest here
        expl.solve_all()
    start = time.perf_counter()
    health = expl.health()
    ranking = expl.ranking()[: options.top]
    out = {
        "seed": int(seed), "patches": list(expl.patches), "key": expl.key, "n": expl.n,
        "model": spec.settings.model, "layer": ex.generator.layer,
        "health": {k: (finite(v) if isinstance(v, float) else v) for k, v in health.as_dict().items()},
        "warnings": health.warnings(),
        "top": [[int(s), expl.subset_patches(s), float(norm)] for s, norm in ranking],
    }
    image = SweepImage(expl, int(seed), ranking, options)
    for metric in options.chosen():
        out[metric.name] = metric(image)
    out["metrics_seconds"] = time.perf_counter() - start
    out["worker"] = worker_address()
    return out
