"""What a loaded file may hold: every field of a cache part and of a saved explanation, checked.

A file's checksum only proves it was not damaged by accident (anyone can edit the arrays and
recompute it), so every value read from disk is checked here against what it must agree with:
types, shapes, ranges, finiteness, order, the part's own key, and the minimal features against
the explanation's ``f`` and ``b``.

The feature check follows from Eq. 5: every minimal feature is ``f_T = b + m ⊙ (f − b)`` with
``m ∈ [0, 1]``, so each element of ``f_T`` lies between ``b`` and ``f`` (up to float32 rounding,
:data:`BOX_RTOL` of ``|b| + |f|``), and ``f_∅ = b``.  That refuses features scaled by 1e30,
zeroed (where 0 is not between ``b`` and ``f``), NaN or taken from another sample.

Every refusal is a :class:`~prsg_widgets.backend.persistence.files.DamagedFile` (a ``ValueError``) whose
one-line message names the field.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...core.solver.config import recorded_max_steps
from ...core.solver.rows import KEPT, ROWS
from ...core.validate import MAX_ITERATIONS, PRECISIONS
from .files import DamagedFile

__all__ = ["BOX_RTOL", "check_baseline", "PART_FIELDS", "PartContext", "check_part", "check_rows", "check_meta",
           "check_explanation", "subset_members"]

BOX_RTOL = 1e-6
"""Slack of the ``b ≤ f_T ≤ f`` check, relative to ``|b| + |f|`` (float32 rounding is ~1.2e-7)."""
_MSE_SLACK = 1e-5
PART_FIELDS = ("subsets", *(f.name for f in KEPT))
"""The arrays of a cache part besides ``key`` (and the checksum): the kept fields of the row schema."""


def _bad(field: str, what: str) -> DamagedFile:
    return DamagedFile(f"field {field!r} {what}")


def _array(arrays: dict, name: str, kinds: str, shape: tuple) -> np.ndarray:
    """``arrays[name]`` when its dtype kind is one of ``kinds`` and its shape is ``shape``."""
    if name not in arrays:
        raise _bad(name, "is missing")
    a = arrays[name]
    if a.dtype.kind not in kinds:
        want = {"f": "floats", "iu": "integers", "b": "booleans", "U": "a string"}.get(kinds, kinds)
        raise _bad(name, f"holds {a.dtype} values, expected {want}")
    if a.shape != tuple(shape):
        raise _bad(name, f"has shape {a.shape}, expected {tuple(shape)}")
    return a


@dataclass(frozen=True)
class PartContext:
    """What the rows of one explanation must agree with: the box ``[min(b, f), max(b, f)]``
    (with slack), ``b`` itself (``f_∅``), ε, the largest possible mse and iteration count.
    """

    lower: np.ndarray
    upper: np.ndarray
    baseline: np.ndarray
    epsilon: float
    max_mse: float
    max_iterations: int

    @classmethod
    def of(cls, feature: Any, baseline: Any, epsilon: float, value_range: tuple, solver: Mapping | None = None
           ) -> PartContext:
        """The context of an explanation with feature ``f``, baseline ``b``, ε, its image's value
        range and solver settings (the iteration budget is ``SolverConfig.max_steps``: a restart
        may spend ``iterations`` twice, then the polish runs).
        """
        f = np.asarray(feature, dtype=np.float64).reshape(-1)
        b = np.asarray(baseline, dtype=np.float64).reshape(-1)
        slack = BOX_RTOL * (np.abs(f) + np.abs(b))
        lo, hi = float(value_range[0]), float(value_range[1])
        budget = recorded_max_steps(solver or {}) or 2 * MAX_ITERATIONS
        return cls(np.minimum(f, b) - slack, np.maximum(f, b) + slack, np.asarray(baseline, np.float32).reshape(-1),
                   float(epsilon), (hi - lo) ** 2 * (1 + _MSE_SLACK), budget)


def subset_members(subsets: np.ndarray, n: int) -> np.ndarray:
    """``(k, n)`` booleans: patch ``i`` belongs to subset ``subsets[j]``."""
    return ((subsets.astype(np.int64)[:, None] >> np.arange(n)) & 1).astype(bool)


def check_rows(arrays: dict, subsets: np.ndarray, n: int, d: int, ctx: PartContext | None = None) -> None:
    """Check the per-subset arrays of the rows ``subsets`` — the kept fields of the row schema:
    dtype kind and shape, then their values and how they agree — and with ``ctx`` also against
    ``f``, ``b``, ε and the value range.  ``DamagedFile`` naming the field otherwise.
    """
    k = len(subsets)
    cols = {f.name: _array(arrays, f.name, f.kinds, f.shape(k, n, d)) for f in KEPT}  # dtypes, shapes
    feats, mse, pm, feasible, its = (cols[name] for name in ("features", "mse", "patch_mse", "feasible", "iterations"))
    if not np.isfinite(feats).all():
        raise _bad("features", "holds NaN or inf")
    if not np.isfinite(mse).all() or (mse < 0).any():
        raise _bad("mse", "holds NaN, inf or negative values")
    if (its < 0).any() or (its > (ctx.max_iterations if ctx else 2 * MAX_ITERATIONS)).any():
        raise _bad("iterations", f"holds counts outside 0..{ctx.max_iterations if ctx else 2 * MAX_ITERATIONS}")
    inside = subset_members(subsets, n)
    measured = ~np.isnan(pm).all(1)  # rows given in closed form (and ∅) carry no per-patch mse
    if (~measured & (its != 0)).any():
        raise _bad("patch_mse", "is missing (all NaN) for a solved subset")
    if (measured & (its < 1)).any():  # the solver evaluates every non-empty subset at least once
        raise _bad("iterations", "is 0 for a solved subset")
    if not np.isnan(pm[~inside]).all():
        raise _bad("patch_mse", "holds a value for a patch outside its subset (must be NaN)")
    within = pm[inside & measured[:, None]]
    if not np.isfinite(within).all() or (within < 0).any():
        raise _bad("patch_mse", "holds NaN, inf or negative values for a patch of its subset")
    _check_mse_is_a_mean(mse[measured], pm[measured], inside[measured])
    if ctx is None:
        return
    if (mse > ctx.max_mse).any() or (within > ctx.max_mse).any():
        raise _bad("mse" if (mse > ctx.max_mse).any() else "patch_mse",
                   f"holds an mse above {ctx.max_mse:.4g}, impossible for the image's value range")
    worst = np.maximum(np.where(inside & measured[:, None], pm, -np.inf).max(1, initial=-np.inf), 0.0)
    tol = ctx.epsilon * _MSE_SLACK
    if (measured & feasible & (worst > ctx.epsilon + tol)).any() or \
            (measured & ~feasible & (worst <= ctx.epsilon - tol)).any():
        raise _bad("feasible", f"contradicts patch_mse and ε = {ctx.epsilon:g}")
    f64 = feats.astype(np.float64)
    if ((f64 < ctx.lower) | (f64 > ctx.upper)).any():
        row = int(np.flatnonzero(((f64 < ctx.lower) | (f64 > ctx.upper)).any(1))[0])
        raise _bad("features", f"row of subset {int(subsets[row])} is not b + m ⊙ (f − b) with m in [0, 1]")
    empty = np.flatnonzero(subsets == 0)
    if len(empty) and not np.array_equal(feats[empty[0]].astype(np.float32), ctx.baseline):
        raise _bad("features", "row of the empty subset is not the baseline b")


def _check_mse_is_a_mean(mse: np.ndarray, pm: np.ndarray, inside: np.ndarray) -> None:
    """A solved subset's ``mse`` (over all of T's pixels) is the pixel-weighted mean of its
    patches' own mse, so it lies between the smallest and the largest of them (up to rounding).
    """
    if not len(mse):
        return
    lo = np.where(inside, pm, np.inf).min(1)
    hi = np.where(inside, pm, -np.inf).max(1)
    if ((mse < lo * (1 - _MSE_SLACK)) | (mse > hi * (1 + _MSE_SLACK))).any():
        raise _bad("mse", "is not within its subset's patch_mse values (it is their pixel-weighted mean)")


def check_part(part: dict, n: int, d: int, key: str | None, ctx: PartContext | None = None) -> None:
    """Check a cache part of explanation ``key`` (``n`` patches, ``d`` feature values): exactly the
    part's fields, its own key, subsets sorted, distinct and in range, then :func:`check_rows`.
    """
    extra = sorted(set(part) - set(PART_FIELDS) - {"key"})
    if extra:
        raise _bad(extra[0], "is not a field of a cache part")
    stored = _array(part, "key", "U", ())
    if key is not None and str(stored) != key:
        raise _bad("key", f"is {str(stored)[:40]!r}: the part belongs to another explanation")
    subsets = part.get("subsets")
    if subsets is None:
        raise _bad("subsets", "is missing")
    if subsets.ndim != 1:
        raise _bad("subsets", f"has shape {subsets.shape}, expected one dimension")
    _array(part, "subsets", "iu", subsets.shape)
    if len(subsets) and (subsets.min() < 0 or subsets.max() >= 1 << n):
        raise _bad("subsets", f"holds ids outside 0..{(1 << n) - 1}")
    if (np.diff(subsets.astype(np.int64)) <= 0).any():
        raise _bad("subsets", "is not sorted and distinct")
    check_rows(part, subsets, n, d, ctx)


_META_TYPES = {"model": str, "layer": str, "fingerprint": str, "label": str, "version": str}


def _positive_ints(value: Any, name: str, length: int | None = None) -> tuple:
    if not isinstance(value, list) or not value or (length is not None and len(value) != length) or \
            not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**31 for v in value):
        raise _bad("meta", f"{name} must be a list of {length or 'some'} positive integers, got {str(value)[:60]}")
    return tuple(value)


def check_meta(text: np.ndarray, current_format: int) -> dict:
    """The ``meta`` field of a saved explanation: a JSON object with the documented types."""
    if text.dtype.kind != "U" or text.shape != ():
        raise _bad("meta", "is not a string")
    try:
        meta = json.loads(str(text))
    except (json.JSONDecodeError, RecursionError):
        raise _bad("meta", "is not valid JSON") from None
    if not isinstance(meta, dict):
        raise _bad("meta", f"is a JSON {type(meta).__name__}, expected an object")
    for name in ("model", "layer", "grid", "image_shape", "value_range", "feature_shape"):
        if name not in meta:
            raise _bad("meta", f"has no {name!r}")
    for name, kind in _META_TYPES.items():
        if name in meta and not isinstance(meta[name], kind):
            raise _bad("meta", f"{name} must be a {kind.__name__}, got {str(meta[name])[:40]}")
    if "precision" in meta and meta["precision"] not in PRECISIONS:
        raise _bad("meta", f"precision must be one of {', '.join(PRECISIONS)}, got {str(meta['precision'])[:40]}")
    for name in ("grid", "baseline_samples", "baseline_seed", "seed", "format"):
        v = meta.get(name)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
            raise _bad("meta", f"{name} must be an integer, got {str(v)[:40]}")
    image_shape = _positive_ints(meta["image_shape"], "image_shape", 3)
    _positive_ints(meta["feature_shape"], "feature_shape")
    grid = meta["grid"]
    if not 1 <= grid <= min(image_shape[1:]):
        raise _bad("meta", f"grid {grid} does not fit the {image_shape[1]}×{image_shape[2]} image")
    vr = meta["value_range"]
    if not (isinstance(vr, list) and len(vr) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                           and math.isfinite(v) for v in vr) and vr[0] < vr[1]):
        raise _bad("meta", f"value_range must be two finite numbers low < high, got {str(vr)[:40]}")
    if not isinstance(meta.get("solver", {}), dict):
        raise _bad("meta", "solver must be an object")
    fmt = meta.get("format", current_format)
    if not 1 <= fmt <= current_format:
        raise _bad("meta", f"format {fmt} is not one this version reads (1..{current_format}); upgrade prsg_widgets")
    if (meta.get("baseline_samples") or 0) < 0:
        raise _bad("meta", "baseline_samples is negative")
    return meta


def _finite(arrays: dict, name: str, shape: tuple, kinds: str = "f") -> np.ndarray:
    a = _array(arrays, name, kinds, shape)
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise _bad(name, "holds NaN or inf")
    return a


def check_explanation(data: dict, current_format: int) -> dict:
    """Check every field of a saved explanation (see :meth:`Explanation.save`) against its metadata
    and against each other; returns ``{"meta": dict, "patches": list, "n", "d", "epsilon"}``.
    """
    meta = check_meta(data["meta"] if "meta" in data else np.asarray(None), current_format)
    shape = tuple(meta["image_shape"])
    grid = meta["grid"]
    d = int(np.prod(meta["feature_shape"]))
    patches = data.get("patches")
    if patches is None or patches.ndim != 1 or patches.dtype.kind not in "iu":
        raise _bad("patches", "must be a list of integer patch ids")
    n = len(patches)
    if not 1 <= n <= 30:
        raise _bad("patches", f"holds {n} ids; an explanation has 1..30 patches")
    if patches.min() < 0 or patches.max() >= grid * grid:
        raise _bad("patches", f"holds ids outside the {grid}×{grid} grid (0..{grid * grid - 1})")
    if (np.diff(patches.astype(np.int64)) <= 0).any():
        raise _bad("patches", "is not sorted and distinct")
    size = 1 << n
    eps_arr = _array(data, "epsilon", "f", ())
    eps = float(eps_arr)
    lo, hi = meta["value_range"]
    if not (math.isfinite(eps) and 0 < eps < (hi - lo) ** 2):
        raise _bad("epsilon", f"is {eps!r}; it must be above 0 and below {(hi - lo) ** 2:g}")
    feature = _finite(data, "feature", (d,))
    baseline = _finite(data, "baseline", (d,))
    image = _finite(data, "image", shape)
    span = hi - lo
    if image.size and (image.min() < lo - span or image.max() > hi + span):  # a generous margin: user models overshoot
        raise _bad("image", f"holds values far outside the value range [{lo:g}, {hi:g}]")
    code = data.get("code")
    if code is None or code.dtype.kind not in "fiu" or (code.dtype.kind == "f" and not np.isfinite(code).all()):
        raise _bad("code", "is missing or not finite numbers")
    if "object_masks" in data:
        masks = data["object_masks"]
        if masks.ndim < 2 or masks.shape[-2:] != shape[1:] or masks.dtype.kind not in "fb" or \
                (masks.dtype.kind == "f" and not ((masks >= 0) & (masks <= 1)).all()):
            raise _bad("object_masks", f"must be (…, {shape[1]}, {shape[2]}) masks with values in [0, 1]")
    rows = {f.name: data[f.saved] for f in KEPT if f.saved is not None and f.saved in data}
    try:
        ctx = PartContext.of(feature, baseline, eps, (lo, hi), meta.get("solver"))
        check_rows(rows, np.arange(size), n, d, ctx)
    except DamagedFile as exc:
        raise DamagedFile(_saved_names(str(exc))) from None
    if not bool(data["feasible"][0]) or data["iterations"][0] != 0 or data["mse"][0] != 0:
        raise _bad("feasible", "row of the empty subset must be feasible, with mse 0 and 0 iterations")
    _check_derived(data, rows["features"], baseline, n, d)
    return {"meta": meta, "patches": [int(p) for p in patches], "n": n, "d": d, "epsilon": eps}


def _saved_names(message: str) -> str:
    """``message`` naming each field as a saved explanation does (``'features'`` is ``'minimal_features'``)."""
    for f in KEPT:
        if f.saved is not None:
            message = message.replace(f"'{f.name}'", f"'{f.saved}'")
    return message


def _check_derived(data: dict, features: np.ndarray, baseline: np.ndarray, n: int, d: int) -> None:
    """``components`` and the saved fields the row schema derives (``max_patch_mse``) are computed
    from the rows: they must agree with them.
    """
    import torch

    from ...core import harsanyi

    size = 1 << n
    comps = _finite(data, "components", (size, d))
    u = torch.from_numpy(features.astype(np.float64) - baseline.astype(np.float64))
    true = harsanyi.or_interactions(u).numpy()
    scale = float(np.abs(u.numpy()).max()) if u.numel() else 0.0
    if not np.allclose(comps, true, rtol=1e-4, atol=1e-5 * scale * size + 1e-30):
        raise _bad("components", "do not match the minimal features (Eq. 6)")
    kept = {f.name: torch.from_numpy(np.asarray(data[f.saved], dtype=f.dtype)) for f in KEPT if f.saved is not None}
    for f in ROWS:
        if f.derive is not None and f.saved is not None:
            have = _array(data, f.saved, f.kinds, f.shape(size, n, d))
            want = f.derive(kept, torch.from_numpy(baseline)).numpy()
            if not np.allclose(have, want, rtol=1e-6, atol=0, equal_nan=True):
                raise _bad(f.saved, "does not match the rows it is derived from")


BASELINE_CHECK_SAMPLES = 64
"""Codes drawn to check a baseline read from disk (:func:`check_baseline`)."""


def check_baseline(value: Any, explainer: Any, samples: int = BASELINE_CHECK_SAMPLES) -> None:
    """Refuse a baseline ``b`` (read from a cache file) that cannot be the mean feature of the
    explainer's generator: ``b`` is the mean of ``head(z)`` over K seeded codes, so the mean
    ``b_m`` of the first ``m`` codes of the same seed differs from it by sampling noise only,
    ``E‖b − b_m‖² ≈ Σ_j σ_j² / m``.  A distance 50× that (``b`` scaled, zeroed, another layer's)
    is a :class:`DamagedFile`; a sound baseline fails with a probability far below 1e-9.
    """
    import torch

    gen = explainer.generator
    b = torch.as_tensor(value, dtype=torch.float64).reshape(-1)
    m = max(2, min(int(samples), int(getattr(explainer, "baseline_samples", samples))))
    rng = torch.Generator().manual_seed(int(getattr(explainer, "baseline_seed", 0)))
    with torch.no_grad():
        feats = gen.head(gen.sample_codes(m, rng).to(explainer.device)).reshape(m, -1).double().cpu()
    mean, var = feats.mean(0), feats.var(0)
    spread = float(var.sum()) / m + 1e-8 * float((mean ** 2).sum()) + 1e-30
    ratio = float(((b - mean) ** 2).sum()) / spread
    if not math.isfinite(ratio) or ratio > 50:
        raise DamagedFile(f"field 'value' is {math.sqrt(ratio) if math.isfinite(ratio) else ratio:.3g} sampling "
                          "deviations from the model's mean feature")
