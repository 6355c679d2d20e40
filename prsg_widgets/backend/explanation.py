"""``Explanation``: the result every view reads — one sample's minimal features, feature components
and regional patterns over the patches ``N``.

An explanation is a value you can hold, pass, save and load without a live model: it knows its
patches, grid, value range, baseline ``b``, ε and where it came from (:class:`ExplanationMeta`),
and reads minimal features and components.  Its identity never changes and a solved row never
changes; rows not solved yet are solved on demand through the explainer it is bound to (the
explainer's scheduler does the work and its store keeps the rows, shared by every explanation of
the same key).  A loaded explanation without an explainer reads everything but cannot render.
"""
from __future__ import annotations

import concurrent.futures as cf
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Protocol, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from ..core import harsanyi
from ..core.grid import PatchGrid, patches_to_subset, subset_to_patches
from ..core.health import Health, explanation_health, mass_share
from ..core.solver import worst_patch_mse
from ..core.validate import check_subset_bitmask, check_subset_ids, is_integer
from .sample import Component, Sample
from .filecheck import PartContext, check_baseline
from .store import FORMAT, SolveRecord

SubsetLike = Union[int, Iterable[int]]
ProgressCallback = Callable[[int, int], None]


class Explainer(Protocol):
    """What an explanation asks of the explainer it is bound to
    (:class:`prsg_widgets.backend.explainer.Explainer` is the one implementation)."""

    device: torch.device

    def meta(self, sample: Optional[Sample] = None) -> "ExplanationMeta": ...
    def render(self, features: Tensor, code: Optional[Tensor] = None) -> Tensor: ...
    def submit(self, explanation: "Explanation", subsets: Sequence[int],
               on_progress: Optional[ProgressCallback] = None) -> cf.Future: ...

    def solve(self, explanation: "Explanation", subsets: Sequence[int]) -> "Explanation": ...


@dataclass(frozen=True)
class ExplanationMeta:
    """Where an explanation came from: enough to check it against an explainer and to redo it."""

    model: str
    layer: str
    grid: int
    image_shape: tuple[int, ...]
    value_range: tuple[float, float]
    feature_shape: tuple[int, ...]
    solver: dict = field(default_factory=dict, hash=False)
    fingerprint: str = ""
    baseline_samples: int = 0
    baseline_seed: int = 0
    seed: Optional[int] = None
    label: str = ""
    version: str = ""
    format: int = FORMAT

    def as_dict(self) -> dict:
        d = asdict(self)
        d["image_shape"], d["feature_shape"] = list(self.image_shape), list(self.feature_shape)
        d["value_range"] = list(self.value_range)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ExplanationMeta":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        for k in ("image_shape", "feature_shape", "value_range"):
            if k in known and known[k] is not None:
                known[k] = tuple(known[k])
        return cls(**known)

    def describe(self) -> str:
        return f"model {self.model!r} layer {self.layer!r} grid {self.grid}"

    def check_matches(self, other: "ExplanationMeta", source: object = "the file") -> None:
        """Refuse an explanation (``self``, read from ``source``) made by another model, layer,
        grid or weights than ``other`` (an explainer's meta): ``ValueError`` naming the explainer
        to make instead."""
        same = (self.model == other.model and self.layer == other.layer and self.grid == other.grid
                and tuple(self.image_shape) == tuple(other.image_shape)
                and tuple(self.feature_shape) == tuple(other.feature_shape)
                and (not self.fingerprint or self.fingerprint == other.fingerprint))
        if not same:
            what = ("the same names but other weights" if self.model == other.model and self.layer == other.layer
                    and self.grid == other.grid else self.describe())
            raise ValueError(f"{source} was made with {what}; this explainer has {other.describe()}: "
                             f"load it with Explainer({self.model!r}, layer={self.layer!r}, grid={self.grid}) "
                             "or without an explainer")


def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


class Explanation:
    """Minimal features, feature components and regional patterns of one sample over the patches
    ``N`` — solved on demand (when bound to an explainer), stored, shared by every view.

    Made by :meth:`Explainer.explain` or :meth:`Explanation.load`.  Subsets ``T`` are an int
    bitmask over ``patches`` (bit i ⇔ ``patches[i]``) or an iterable of patch ids.
    """

    def __init__(self, record: SolveRecord, sample: Sample, patches: Sequence[int], meta: ExplanationMeta,
                 baseline: Tensor, epsilon: float, explainer: Optional[Explainer] = None,
                 key: Optional[str] = None) -> None:
        self._record = record
        self.sample = sample
        self._patches = tuple(int(p) for p in patches)
        self.meta = meta
        self._baseline = baseline.detach().cpu().reshape(-1)
        self._epsilon = float(epsilon)
        self.explainer = explainer
        self.key = key
        self.grid = PatchGrid(meta.image_shape[-2], meta.image_shape[-1], meta.grid)
        self.control: Optional["Explanation"] = None
        """The dense control (App. I), attached by :func:`prsg_widgets.metrics.dense_control`."""
        store = getattr(explainer, "store", None)
        if store is not None:  # what was read from disk must fit this explanation (filecheck)
            store.verify_tensors(lambda value: check_baseline(value, explainer))
            if key is not None and record.context is None:
                store.verify(key, record, PartContext.of(self.feature, self._baseline, self._epsilon,
                                                         meta.value_range, meta.solver))
        if not record.solved[0]:  # f_∅ = b without optimising
            record.write(np.array([0]), self._baseline.unsqueeze(0), np.array([0.0]),
                         np.full((1, len(self._patches)), np.nan), np.array([True]), np.array([0]))

    # ------------------------------------------------------------------ identity
    @property
    def patches(self) -> list[int]:
        """The patch ids ``N`` (sorted; a copy — the explanation's own cannot change)."""
        return list(self._patches)

    @property
    def n(self) -> int:
        return len(self._patches)

    @property
    def num_subsets(self) -> int:
        return 1 << self.n

    @property
    def full(self) -> int:
        """Bitmask of ``N``."""
        return self.num_subsets - 1

    @property
    def feature(self) -> Tensor:
        """``f`` flattened ``(d,)``."""
        return self.sample.feature.detach().cpu()

    @property
    def image(self) -> Tensor:
        """``x = g(f)`` ``(C, H, W)``."""
        return self.sample.image.detach().cpu()

    @property
    def baseline(self) -> Tensor:
        """``b`` flattened ``(d,)``."""
        return self._baseline

    @property
    def epsilon(self) -> float:
        """The per-patch mse tolerance ε of this explanation."""
        return self._epsilon

    @property
    def value_range(self) -> tuple[float, float]:
        lo, hi = self.meta.value_range
        return (lo, hi)

    def __repr__(self) -> str:
        done, total = self.progress
        return (f"Explanation({self.meta.model}, {self.meta.layer}, {self.sample.label or 'sample'}, "
                f"patches={list(self._patches)}, solved {done}/{total})")

    def subset(self, T: SubsetLike) -> int:
        """Bitmask of ``T`` (an int bitmask, or patch ids of ``N``)."""
        if is_integer(T) or isinstance(T, (bool, np.bool_, float)):
            return check_subset_bitmask(T, self.n)
        return patches_to_subset(check_subset_ids(T, self._patches), self._patches)

    def subset_patches(self, T: SubsetLike) -> list[int]:
        return subset_to_patches(self.subset(T), self._patches)

    # ------------------------------------------------------------------ what is solved
    @property
    def mse(self) -> np.ndarray:
        """Mse over all of T's pixels per subset ``(2^n,)`` (read-only; ``nan`` = unsolved)."""
        return _readonly(self._record.mse)

    @property
    def patch_mse(self) -> np.ndarray:
        """Each patch's own mse per subset ``(2^n, n)`` (read-only; ``nan`` outside T)."""
        return _readonly(self._record.patch_mse)

    @property
    def feasible(self) -> np.ndarray:
        """Whether every patch of T is within ε, per subset (read-only)."""
        return _readonly(self._record.feasible)

    @property
    def iterations(self) -> np.ndarray:
        """Solver iterations per subset (read-only)."""
        return _readonly(self._record.iterations)

    @property
    def max_patch_mse(self) -> np.ndarray:
        """The worst patch's mse per subset ``(2^n,)`` (0 for ∅, ``nan`` where unsolved)."""
        worst = worst_patch_mse(torch.from_numpy(np.asarray(self._record.patch_mse, dtype=np.float64))).numpy()
        return np.where(self._record.solved, worst, np.nan)

    def solved_subsets(self) -> list[int]:
        return np.flatnonzero(self._record.solved).tolist()

    @property
    def progress(self) -> tuple[int, int]:
        """``(solved, total)`` minimal features."""
        return int(self._record.solved.sum()), self.num_subsets

    @property
    def is_complete(self) -> bool:
        return bool(self._record.solved.all())

    def is_solved(self, T: SubsetLike) -> bool:
        """Whether ``f_T`` is known."""
        return bool(self._record.solved[self.subset(T)])

    def solved_mask(self) -> np.ndarray:
        """Copy of the per-subset solved flags ``(2^n,)``."""
        return self._record.solved.copy()

    def component_ready(self, S: SubsetLike) -> bool:
        """Whether ``I(S)`` can be computed without solving: all ``f_{N∖L}``, ``L ⊆ S``, are known."""
        return bool(self._record.solved[harsanyi.or_interaction_needs(self.subset(S), self.full)].all())

    @property
    def has_components(self) -> bool:
        """Whether the full component array is already computed (no solve or transform needed)."""
        return self._record.components is not None

    def on_update(self, callback: Callable[["Explanation", list[int]], None]) -> None:
        """Call ``callback(explanation, new_subsets)`` (from the worker thread) as results land."""
        self._record.listeners.append(callback)

    def remove_listener(self, callback: Callable[["Explanation", list[int]], None]) -> None:
        """Stop calling a callback registered with :meth:`on_update` (no error if absent)."""
        if callback in self._record.listeners:
            self._record.listeners.remove(callback)

    def require_explainer(self) -> Explainer:
        """The explainer this explanation renders and solves with (error if loaded without one)."""
        if self.explainer is None:
            raise RuntimeError("this explanation was loaded without an explainer; use "
                               "Explanation.load(path, explainer=Explainer(...)) to solve or render")
        return self.explainer

    def with_minimal_features(self, features: Union[Tensor, dict]) -> "Explanation":
        """A new explanation of the same sample, patches and explainer whose minimal features are
        given: a ``(2^n, d)`` tensor (all rows) or ``{subset: f_T}``.  For closed forms (tests,
        teaching); the rows count as solved and feasible, the explainer's store is untouched."""
        rows = dict(enumerate(features)) if isinstance(features, Tensor) else dict(features)
        rec = SolveRecord(self.n, self._record.d)
        if rows:
            idx = np.asarray([self.subset(t) for t in rows], dtype=np.int64)
            feats = torch.stack([torch.as_tensor(v, dtype=torch.float32).reshape(-1) for v in rows.values()])
            if feats.shape[1] != rec.d:
                raise ValueError(f"minimal features have {feats.shape[1]} values, the layer has {rec.d}")
            rec.write(idx, feats, np.zeros(len(idx)), np.full((len(idx), self.n), np.nan),
                      np.ones(len(idx), dtype=bool), np.zeros(len(idx), dtype=np.int64))
        return Explanation(rec, self.sample, self._patches, self.meta, self._baseline, self._epsilon, self.explainer)

    # ------------------------------------------------------------------ solving (through the explainer)
    def submit(self, subsets: Optional[Iterable[SubsetLike]] = None,
               on_progress: Optional[ProgressCallback] = None) -> cf.Future:
        """Queue the minimal features of ``subsets`` (default: all ``2^n``) and return at once a
        future resolving to this explanation once they are stored (and saved).
        ``on_progress(done, total)`` reports this request."""
        wanted = range(self.num_subsets) if subsets is None else [self.subset(t) for t in subsets]
        return self.require_explainer().submit(self, list(wanted), on_progress)

    def _ensure(self, subsets: Iterable[int]) -> None:
        solved = self._record.solved
        missing = [s for s in subsets if not solved[s]]
        if missing:
            self.require_explainer().solve(self, missing)

    def solve_all(self) -> "Explanation":
        """Solve every minimal feature (blocking; Ctrl-C stops, keeps and saves the finished ones)."""
        self._ensure(range(self.num_subsets))
        return self

    # ------------------------------------------------------------------ results
    def minimal_feature(self, T: SubsetLike) -> Tensor:
        """``f_T`` (Eq. 5), flattened ``(d,)``; solved on demand."""
        t = self.subset(T)
        self._ensure([t])
        return self._record.features[t].clone()

    def minimal_features(self) -> Tensor:
        """All ``f_T`` ``(2^n, d)`` indexed by bitmask; solves what is missing."""
        self.solve_all()
        return self._record.features.clone()

    def component(self, S: SubsetLike) -> Tensor:
        """``I(S)`` (Eq. 6).  Needs only ``f_{N∖L}`` for ``L ⊆ S`` (``2^{|S|}`` minimal features)."""
        s = self.subset(S)
        rec = self._record
        if s == 0:
            return torch.zeros(rec.d)
        if rec.components is not None:
            return rec.components[s].clone()
        self._ensure(harsanyi.or_interaction_needs(s, self.full))
        b = self._baseline.double()
        return harsanyi.or_interaction(lambda t: rec.features[t].double() - b, s, self.full).float()

    def component_array(self) -> Tensor:
        """All components ``I(S)`` ``(2^n, d)``, row 0 = ``I(∅)`` = 0; solves everything."""
        self.solve_all()
        rec = self._record
        with rec.lock:
            if rec.components is None:
                rec.components = harsanyi.or_interactions(rec.features.double() - self._baseline.double()).float()
            return rec.components.clone()

    def norms(self) -> Tensor:
        """``‖I(S)‖₂`` for every ``S`` ``(2^n,)``."""
        return self.component_array().norm(dim=1)

    def ranking(self, order: Optional[int] = None,
                covering: Optional[Iterable[int]] = None) -> list[tuple[int, Optional[float]]]:
        """The non-empty components of order ``|S| = order`` whose action field contains every
        patch id in ``covering``, as ``(S, ‖I(S)‖₂)``: first those computable from what is solved,
        by norm (descending; ties by ``S``), then the others in ``S`` order with norm ``None``.
        Solves nothing — what a view lists while a solve runs."""
        need = self.subset(list(covering)) if covering is not None else 0
        rec = self._record
        if self.is_complete:
            if not rec.norms_final:  # the transform's norms, so the order equals components()
                full_norms = self.component_array().norm(dim=1).tolist()
                rec.norms = {s: full_norms[s] for s in range(1, self.num_subsets)}
                rec.norms_final = True
        else:
            for s in range(1, self.num_subsets):
                if s not in rec.norms and self.component_ready(s):
                    rec.norms[s] = float(self.component(s).norm())
        match = [s for s in range(1, self.num_subsets)
                 if (s & need) == need and (order is None or bin(s).count("1") == order)]
        ready = sorted((s for s in match if s in rec.norms), key=lambda s: (-rec.norms[s], s))
        return [(s, rec.norms[s]) for s in ready] + [(s, None) for s in match if s not in rec.norms]

    def components(self, top: Optional[int] = None, order: Optional[int] = None,
                   covering: Optional[Iterable[int]] = None, ready_only: bool = False) -> list[Component]:
        """Non-empty components sorted by L2 norm (descending), optionally only those of order
        ``|S| = order`` or whose action field contains all patch ids in ``covering`` (see
        :meth:`ranking`).  Everything is solved first, unless ``ready_only=True``: then only the
        components computable from what is solved so far are listed."""
        if not ready_only:
            self.solve_all()
        ranked = [(s, norm) for s, norm in self.ranking(order, covering) if norm is not None]
        if top is not None:
            ranked = ranked[:top]
        comps = self.component_array() if self.is_complete else None
        return [Component(s, tuple(self.subset_patches(s)), comps[s] if comps is not None else self.component(s), norm)
                for s, norm in ranked]

    def reconstruct(self, keep: Optional[Iterable[int]] = None) -> Tensor:
        """Eq. 7: ``f̂_T = b + Σ_{S∈keep, S∩T≠∅} I(S)`` for all ``T`` ``(2^n, d)``; ``keep`` is
        subset bitmasks (or a boolean mask of length ``2^n``), default all."""
        comps = self.component_array().double()
        if isinstance(keep, Tensor) and keep.dtype == torch.bool:
            pass  # checked by the transform
        elif keep is not None:
            keep = [self.subset(s.item() if isinstance(s, Tensor) else s) for s in keep]
        return (self._baseline.double() + harsanyi.reconstruct(comps, keep)).float()

    def regional_pattern(self, S: SubsetLike) -> Tensor:
        """``Δx_S = g(f_N) − g(f_N − I(S))`` ``(C, H, W)`` (Fig. 2)."""
        return self.regional_patterns([S])[0]

    def regional_patterns(self, subsets: Sequence[SubsetLike]) -> Tensor:
        """Regional patterns of several components at once ``(k, C, H, W)``."""
        ss = [self.subset(s) for s in subsets]
        f_n = self.minimal_feature(self.full)
        comps = torch.stack([self.component(s) for s in ss]) if ss else torch.zeros(0, f_n.numel())
        imgs = self.render(torch.cat([f_n.unsqueeze(0), f_n.unsqueeze(0) - comps]))
        return imgs[:1] - imgs[1:]

    def render(self, features: Tensor) -> Tensor:
        """``g(f)`` of flattened features ``(k, d)`` for this sample's code."""
        return self.require_explainer().render(features, self.sample.code)

    # ------------------------------------------------------------------ health
    def health(self, k: Optional[int] = None) -> Health:
        """How faithful this explanation is (solves what is missing): feasible share, cancellation
        ``Σ‖I(S)‖₁/‖u(N)‖₁``, matching error at top-``k`` (both readings of Fig. 4), sparsity as
        the share of elements holding 90% of the component mass, and the dense control's share
        once :func:`prsg_widgets.metrics.dense_control` solved it.  See :mod:`prsg_widgets.core.health`;
        ``k`` defaults to ``min(30, 2^n/4)``."""
        comps = self.component_array()
        control = None
        if self.control is not None and self.control.is_complete:
            control = mass_share(self.control.component_array()[1:])
        return explanation_health(self._record.features, self._baseline, self.feature, self._record.patch_mse,
                                  self._epsilon, comps, k=k, control_mass_share=control)

    # ------------------------------------------------------------------ files
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays of a saved explanation (the CLI's ``explanation.npz``, see README)."""
        comps = self.component_array()
        rec = self._record
        return {
            "patches": np.asarray(self._patches, dtype=np.int64),
            "minimal_features": rec.features.numpy().copy(),
            "components": comps.numpy(),
            "baseline": self._baseline.numpy().copy(),
            "feature": self.feature.numpy().copy(),
            "image": self.image.numpy().copy(),
            "mse": rec.mse.copy(),
            "patch_mse": rec.patch_mse.copy(),
            "max_patch_mse": self.max_patch_mse,
            "feasible": rec.feasible.copy(),
            "iterations": rec.iterations.copy(),
            "epsilon": np.float64(self._epsilon),
            "code": self.sample.code.detach().cpu().numpy(),
        }

    def save(self, path: Union[str, Path], extra: Optional[dict[str, Any]] = None) -> Path:
        """Write the explanation (solving what is missing), its metadata, ``extra`` arrays (the CLI
        adds ``health_*``) and a checksum to ``path`` (``.npz``); :meth:`load` restores it exactly."""
        from .saved import save_explanation
        return save_explanation(self, path, extra)

    @classmethod
    def load(cls, path: Union[str, Path], explainer: Optional[Explainer] = None) -> "Explanation":
        """Read a file written by :meth:`save` or ``prsg explain``, every field checked (a bad one is a
        one-line ``ValueError`` naming file and field).  With ``explainer``, the file's model, layer,
        grid and shapes must match it; without, everything but rendering works."""
        from .saved import load_explanation
        return load_explanation(cls, path, explainer)
