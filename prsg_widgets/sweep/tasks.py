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
from dataclasses import dataclass

import numpy as np

from ..backend.remote import (
    ExplainerSpec,
    forget_explainers,
    solve_chunk,
    worker_address,
    worker_explainer,
    worker_explanation,
)

__all__ = ["ExplainerSpec", "worker_explainer", "plan_image", "solve_chunk", "image_metrics", "forget_explainers"]


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


def _finite(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def image_metrics(spec: ExplainerSpec, seed: int, patches: Sequence[int], options: MetricOptions,
                  *after) -> dict:
    """The per-image numbers of a study (health, ρ, breach, inconsistency and the component
    ranking), computed from the cache once the image is solved.  ``after``: the image's chunk
    futures (Dask runs this task when they are done; their values are not used).
    """
    from .. import metrics as M

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
    out["worker"] = worker_address()
    return out
