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
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor

from ..core import harsanyi
from ..core.grid import PatchGrid
from ..core.health import Health, explanation_health, mass_share
from .explanation_meta import ExplanationMeta  # re-exported: its home before it had its own module
from .persistence.saved import check_sample, read_explanation, row_arrays, write_explanation
from .persistence.store import SolveRecord
from .sample import Component, RankingEntry, Sample
from .solve_status import SolveStatus
from .subset_args import SubsetLike, keep_bitmasks

__all__ = ["Explanation", "ExplanationMeta", "ExplainerLike", "RankingEntry", "SubsetLike"]

ProgressCallback = Callable[[int, int], None]


class ExplainerLike(Protocol):
    """What an explanation asks of the explainer it is bound to
    (:class:`prsg_widgets.backend.explainer.Explainer` is the one implementation).
    """

    device: torch.device

    def meta(self, sample: Sample | None = None) -> ExplanationMeta:
        """The metadata of an explanation of ``sample``."""

    def render(self, features: Tensor, code: Tensor | None = None) -> Tensor:
        """Images ``g(f)`` of the features (rows) for the latent ``code``."""

    def submit(self, explanation: Explanation, subsets: Sequence[int],
               on_progress: ProgressCallback | None = None) -> cf.Future:
        """Queue the solve of ``subsets``; a future that resolves once they are stored."""

    def solve(self, explanation: Explanation, subsets: Sequence[int]) -> Explanation:
        """Solve ``subsets`` and wait for them."""


@dataclass
class _Derived:
    """What an explanation computes from its solve record and keeps: the full transform
    (``components``) and the component norms read so far.  A write to the record drops the
    transform (and the "final" mark of the norms); rows taken back drop the norms too.
    """

    components: Tensor | None = None
    norms: dict[int, float] = field(default_factory=dict)
    norms_final: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)
    revision: int = -1
    forgotten: int = 0

    def fresh(self, record: SolveRecord) -> _Derived:
        """The cache, emptied of what ``record``'s writes since made stale."""
        with self.lock:
            if record.revision != self.revision:
                if record.forgotten != self.forgotten:
                    self.norms = {}
                self.components, self.norms_final = None, False
                self.revision, self.forgotten = record.revision, record.forgotten
            return self


class Explanation(SolveStatus):
    """Minimal features, feature components and regional patterns of one sample over the patches
    ``N`` — solved on demand (when bound to an explainer), stored, shared by every view.

    Made by :meth:`Explainer.explain` or :meth:`Explanation.load`.  Subsets ``T`` are an int
    bitmask over ``patches`` (bit i ⇔ ``patches[i]``), an iterable of patch ids, an entry of
    :meth:`ranking` or a :class:`Component`.  What is solved so far (progress, mse, feasibility)
    is read through :class:`~prsg_widgets.backend.solve_status.SolveStatus`.
    """

    def __init__(self, record: SolveRecord, sample: Sample, patches: Sequence[int], meta: ExplanationMeta,
                 baseline: Tensor, epsilon: float, explainer: ExplainerLike | None = None,
                 key: str | None = None) -> None:
        super().__init__(record, patches)
        self.sample = sample
        self.meta = meta
        self._baseline = baseline.detach().cpu().reshape(-1)
        self._epsilon = float(epsilon)
        self.explainer = explainer
        self.key = key
        self.grid = PatchGrid(meta.image_shape[-2], meta.image_shape[-1], meta.grid)
        self.control: Explanation | None = None
        """The dense control (App. I), attached by :func:`prsg_widgets.metrics.dense_control`."""
        self._derived = _Derived()
        if not record.solved[0]:  # f_∅ = b without optimising
            record.write_exact(np.array([0]), self._baseline.unsqueeze(0))

    # ------------------------------------------------------------------ identity
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
        """The image value range of the model, e.g. ``(-1.0, 1.0)``."""
        lo, hi = self.meta.value_range
        return (lo, hi)

    def __repr__(self) -> str:
        done, total = self.progress
        return (f"Explanation({self.meta.model}, {self.meta.layer}, {self.sample.label or 'sample'}, "
                f"patches={list(self._patches)}, solved {done}/{total})")

    def require_explainer(self) -> ExplainerLike:
        """The explainer this explanation renders and solves with (error if loaded without one)."""
        if self.explainer is None:
            raise RuntimeError("this explanation was loaded without an explainer; use "
                               "Explanation.load(path, explainer=Explainer(...)) to solve or render")
        return self.explainer

    def with_minimal_features(self, features: Tensor | dict) -> Explanation:
        """A new explanation of the same sample, patches and explainer whose minimal features are
        given: a ``(2^n, d)`` tensor (all rows) or ``{subset: f_T}``.  For closed forms (tests,
        teaching); the rows count as solved and feasible, the explainer's store is untouched.
        """
        rows = dict(enumerate(features)) if isinstance(features, Tensor) else dict(features)
        rec = SolveRecord(self.n, self._record.d)
        if rows:
            idx = np.asarray([self.subset(t) for t in rows], dtype=np.int64)
            feats = torch.stack([torch.as_tensor(v, dtype=torch.float32).reshape(-1) for v in rows.values()])
            if feats.shape[1] != rec.d:
                raise ValueError(f"minimal features have {feats.shape[1]} values, the layer has {rec.d}")
            rec.write_exact(idx, feats)
        return Explanation(rec, self.sample, self._patches, self.meta, self._baseline, self._epsilon, self.explainer)

    # ------------------------------------------------------------------ solving (through the explainer)
    def submit(self, subsets: Iterable[SubsetLike] | None = None,
               on_progress: ProgressCallback | None = None) -> cf.Future:
        """Queue the minimal features of ``subsets`` (default: all ``2^n``) and return at once a
        future resolving to this explanation once they are stored (and saved).
        ``on_progress(done, total)`` reports this request.
        """
        wanted = range(self.num_subsets) if subsets is None else [self.subset(t) for t in subsets]
        return self.require_explainer().submit(self, list(wanted), on_progress)

    def _ensure(self, subsets: Iterable[int]) -> None:
        solved = self._record.solved
        missing = [s for s in subsets if not solved[s]]
        if missing:
            self.require_explainer().solve(self, missing)

    def solve_all(self) -> Explanation:
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
        comps = self._derived.fresh(rec).components
        if comps is not None:
            return comps[s].clone()
        self._ensure(harsanyi.or_interaction_needs(s, self.full))
        b = self._baseline.double()
        return harsanyi.or_interaction(lambda t: rec.features[t].double() - b, s, self.full).float()

    def component_array(self) -> Tensor:
        """All components ``I(S)`` ``(2^n, d)``, row 0 = ``I(∅)`` = 0; solves everything."""
        self.solve_all()
        rec = self._record
        with self._derived.lock:
            cache = self._derived.fresh(rec)
            if cache.components is None:
                cache.components = harsanyi.or_interactions(rec.features.double() - self._baseline.double()).float()
            return cache.components.clone()

    def norms(self) -> Tensor:
        """``‖I(S)‖₂`` for every ``S`` ``(2^n,)``."""
        return self.component_array().norm(dim=1)

    def ranking(self, order: int | None = None,
                covering: Iterable[int] | None = None) -> list[RankingEntry]:
        """The non-empty components of order ``|S| = order`` whose action field contains every
        patch id in ``covering``, as :class:`RankingEntry` ``(S, ‖I(S)‖₂)`` pairs (a slice of the
        list is a valid ``keep`` of :meth:`reconstruct`): first those computable from what is solved,
        by norm (descending; ties by ``S``), then the others in ``S`` order with norm ``None``.
        Solves nothing — what a view lists while a solve runs.
        """
        need = self.subset(list(covering)) if covering is not None else 0
        norms = self._norms()
        match = [s for s in range(1, self.num_subsets)
                 if (s & need) == need and (order is None or bin(s).count("1") == order)]
        ready = sorted((s for s in match if s in norms), key=lambda s: (-norms[s], s))
        return ([RankingEntry(s, norms[s]) for s in ready]
                + [RankingEntry(s, None) for s in match if s not in norms])

    def _norms(self) -> dict[int, float]:
        """``‖I(S)‖₂`` of every component computable from what is solved (kept until rows change)."""
        cache = self._derived.fresh(self._record)
        if self.is_complete:
            if not cache.norms_final:  # the transform's norms, so the order equals components()
                full_norms = self.component_array().norm(dim=1).tolist()
                with cache.lock:
                    cache.norms = {s: full_norms[s] for s in range(1, self.num_subsets)}
                    cache.norms_final = True
        else:
            for s in range(1, self.num_subsets):
                if s not in cache.norms and self.component_ready(s):
                    cache.norms[s] = float(self.component(s).norm())
        return dict(cache.norms)

    @property
    def has_components(self) -> bool:
        """Whether the full component array is already computed (no solve or transform needed)."""
        return self._derived.fresh(self._record).components is not None

    def components(self, top: int | None = None, order: int | None = None,
                   covering: Iterable[int] | None = None, ready_only: bool = False) -> list[Component]:
        """Non-empty components sorted by L2 norm (descending), optionally only those of order
        ``|S| = order`` or whose action field contains all patch ids in ``covering`` (see
        :meth:`ranking`).  Everything is solved first, unless ``ready_only=True``: then only the
        components computable from what is solved so far are listed.
        """
        if not ready_only:
            self.solve_all()
        ranked = [(s, norm) for s, norm in self.ranking(order, covering) if norm is not None]
        if top is not None:
            ranked = ranked[:top]
        comps = self.component_array() if self.is_complete else None
        return [Component(s, tuple(self.subset_patches(s)), comps[s] if comps is not None else self.component(s), norm)
                for s, norm in ranked]

    def reconstruct(self, keep: Iterable[Any] | None = None) -> Tensor:
        """Eq. 7: ``f̂_T = b + Σ_{S∈keep, S∩T≠∅} I(S)`` for all ``T`` ``(2^n, d)``.

        ``keep`` (default: all components) is a boolean mask of length ``2^n`` or an iterable of
        subsets ``S``, each an int bitmask, a list of patch ids of ``N``, an entry of
        :meth:`ranking` or a :class:`Component` — so ``e.reconstruct(e.ranking()[:4])`` and
        ``e.reconstruct(e.components(top=4))`` keep the 4 strongest components.
        """
        chosen = None if keep is None else keep_bitmasks(keep, self._patches)  # checked before solving
        comps = self.component_array().double()
        return (self._baseline.double() + harsanyi.reconstruct(comps, chosen)).float()

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
    def health(self, k: int | None = None) -> Health:
        """How faithful this explanation is (solves what is missing): feasible share, cancellation
        ``Σ‖I(S)‖₁/‖u(N)‖₁``, matching error at top-``k`` (both readings of Fig. 4), sparsity as
        the share of elements holding 90% of the component mass, and the dense control's share
        once :func:`prsg_widgets.metrics.dense_control` solved it.  See :mod:`prsg_widgets.core.health`;
        ``k`` defaults to ``min(30, 2^n/4)``.
        """
        comps = self.component_array()
        control = None
        if self.control is not None and self.control.is_complete:
            control = mass_share(self.control.component_array()[1:])
        nested = self.meta.solver.get("nested")  # the advice depends on the mode that ran
        return explanation_health(self._record.features, self._baseline, self.feature, self._record.patch_mse,
                                  self._epsilon, comps, k=k, control_mass_share=control,
                                  nested=None if nested is None else bool(nested),
                                  precision=self.meta.precision)

    # ------------------------------------------------------------------ files
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays of a saved explanation (the CLI's ``explanation.npz``, see README); solves
        what is missing.
        """
        comps = self.component_array()  # solves everything first
        return {
            "patches": np.asarray(self._patches, dtype=np.int64),
            **row_arrays(self._record, self._baseline),
            "components": comps.numpy(),
            "baseline": self._baseline.numpy().copy(),
            "feature": self.feature.numpy().copy(),
            "image": self.image.numpy().copy(),
            "epsilon": np.float64(self._epsilon),
            "code": self.sample.code.detach().cpu().numpy(),
        }

    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
        """Write the explanation (solving what is missing), its metadata, ``extra`` arrays (the CLI
        adds ``health_*``) and a checksum to ``path`` (``.npz``); :meth:`load` restores it exactly.
        """
        return write_explanation(path, self.to_arrays(), self.meta.as_dict(), self.sample.object_masks, extra)

    @classmethod
    def load(cls, path: str | Path, explainer: ExplainerLike | None = None) -> Explanation:
        """Read a file written by :meth:`save` or ``prsg explain``, every field checked (a bad one is a
        one-line ``ValueError`` naming file and field).  With ``explainer``, the file's model, layer,
        grid and shapes must match it; without, everything but rendering works.
        """
        saved = read_explanation(path)
        meta = ExplanationMeta.from_dict(saved.meta)
        if explainer is not None:
            meta.check_matches(explainer.meta(), path)
            saved.sample.code = saved.sample.code.to(explainer.device)
            check_sample(saved.sample, explainer, path)
        return cls(saved.record, saved.sample, saved.patches, meta, saved.baseline, saved.epsilon, explainer)
