"""The lazy backend: ``Explainer`` schedules, batches and caches minimal-feature solves;
``Explanation`` is the one result object every view reads from.

Requests from any number of callers are queued on one worker thread per explainer; the worker
merges all pending subsets of an explanation into one batched solve, stores every subset as it
finishes (in memory and, with ``cache_dir``, on disk), and resolves the callers' futures.  So a
widget asking for one component and a notebook asking for ``solve_all()`` share the work, an
interrupted solve keeps what finished, and a rerun with the same cache resumes.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from ..core import harsanyi
from ..core.health import Health, explanation_health, mass_share
from ..core.grid import DEFAULT_MAX_PATCHES, PatchGrid, patches_to_subset, select_patches, subset_to_patches
from ..core.solver import (SolverConfig, SolveResult, SolveInterrupted, get_solver_config, solve_minimal_features,
                           worst_patch_mse)
from ..models import SplitGenerator, load_generator
from .cache import SolveCache

SubsetLike = Union[int, Iterable[int]]
ProgressCallback = Callable[[int, int], None]


@dataclass
class Sample:
    """One generated image: its ``code``, ``image`` ``(C, H, W)`` and flattened ``feature`` ``(d,)``."""

    seed: Optional[int]
    code: Tensor
    image: Tensor
    feature: Tensor
    object_masks: Optional[Tensor] = None
    label: str = ""

    def key(self) -> str:
        h = hashlib.sha256(self.code.detach().cpu().numpy().tobytes())
        h.update(self.feature.detach().cpu().numpy().tobytes())
        return h.hexdigest()[:16]


@dataclass(frozen=True)
class Component:
    """A feature component ``I(S)`` (Eq. 6) with its action field ``A(S)`` = the patches of ``S``."""

    subset: int
    patches: tuple[int, ...]
    vector: Tensor
    norm: float

    @property
    def order(self) -> int:
        return len(self.patches)

    def __repr__(self) -> str:  # readable in a notebook: no raw tensor
        return (f"Component(S={{{', '.join(map(str, self.patches))}}}, order={self.order}, "
                f"norm={self.norm:.4g}, d={self.vector.numel()})")


class Explainer:
    """Explain a generator's intermediate feature.

    ``generator`` is a built-in name (see :data:`prsg_widgets.models.MODELS`) or a
    :class:`SplitGenerator`.  ``solver`` is a preset name or a :class:`SolverConfig`; keyword
    ``solver_overrides`` change single settings (``iterations=...``).  ``device=None`` picks CUDA
    when available.  ``batch_size=None`` lets a memory budget choose.
    """

    def __init__(
        self,
        generator: Union[str, SplitGenerator] = "dcgan-faces",
        grid: int = 6,
        device: Union[str, torch.device, None] = None,
        solver: Union[str, SolverConfig, None] = "fast",
        batch_size: Optional[int] = None,
        cache_dir: Union[str, Path, None] = None,
        layer: Optional[str] = None,
        cheap: bool = False,
        max_patches: int = DEFAULT_MAX_PATCHES,
        baseline_samples: int = 1000,
        baseline_seed: int = 0,
        progress: bool = True,
        **solver_overrides,
    ) -> None:
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        if isinstance(generator, str):
            generator = load_generator(generator, layer=layer, device=self.device, cheap=cheap)
        elif layer is not None and layer != generator.layer:
            raise ValueError("layer= applies to built-in names; split your own generator at the layer instead")
        self.generator = generator.to(self.device)
        self.config = get_solver_config(solver, **solver_overrides)
        self.batch_size = batch_size
        self.max_patches = max_patches
        self.progress = progress
        self.baseline_samples, self.baseline_seed = baseline_samples, baseline_seed
        self.cache = SolveCache(cache_dir) if cache_dir is not None else None
        self.baseline = self._baseline().to(self.device)
        with torch.no_grad():
            self.baseline_image = self.generator.tail(self.baseline.unsqueeze(0))[0]
        _, h, w = self.generator.image_shape
        self.grid = PatchGrid(h, w, grid)
        self.epsilon = self.config.epsilon_for(self.generator.value_range)
        self._queue: list[_Request] = []
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._worker: Optional[threading.Thread] = None
        self.busy = False
        self.solver_steps = 0
        """Batched solver iterations run so far (a heartbeat for progress displays and ETAs)."""

    def _baseline(self) -> Tensor:
        """``b`` from the disk cache when there is one (K forward passes saved), else computed."""
        gen, k, seed = self.generator, self.baseline_samples, self.baseline_seed
        if self.cache is None:
            return gen.baseline(k, seed)
        key = f"baseline-{gen.fingerprint()}-{k}-{seed}"
        cached = self.cache.load_tensor(key, (gen.d,))
        if cached is None:
            cached = gen.baseline(k, seed)
            self.cache.save_tensor(key, cached)
        return cached

    # ------------------------------------------------------------------ samples
    def sample(self, seed: int) -> Sample:
        """The image generated from the code drawn with ``seed``."""
        code = self.generator.sample_codes(1, torch.Generator().manual_seed(int(seed))).to(self.device)
        return self.sample_from_code(code, seed=int(seed))

    def sample_from_code(self, code: Tensor, seed: Optional[int] = None) -> Sample:
        """A sample from an explicit code ``(1, ...)``."""
        code = code.to(self.device)
        with torch.no_grad():
            feature = self.generator.head(code).reshape(-1)
            image = self.generator.tail(feature.unsqueeze(0), code)[0]
        return Sample(seed, code, image, feature, self.generator.object_masks(code),
                      label=f"seed {seed}" if seed is not None else "code")

    def sample_from_feature(self, feature: Tensor, code: Optional[Tensor] = None, label: str = "feature") -> Sample:
        """A sample whose feature is given directly (e.g. the dense control of App. I)."""
        feature = feature.reshape(-1).to(self.device)
        if feature.numel() != self.generator.d:
            raise ValueError(f"feature has {feature.numel()} values, the layer has {self.generator.d}")
        if code is None:
            code = self.generator.sample_codes(1, torch.Generator().manual_seed(0)).to(self.device)
        with torch.no_grad():
            image = self.generator.tail(feature.unsqueeze(0), code)[0]
        return Sample(None, code, image, feature, None, label=label)

    def render(self, features: Tensor, code: Optional[Tensor] = None, batch: int = 64) -> Tensor:
        """``g(f)`` for flattened features ``(k, d)`` → images ``(k, C, H, W)``, in batches, no grad."""
        out = []
        with torch.no_grad():
            for i in range(0, features.shape[0], batch):
                out.append(self.generator.tail(features[i:i + batch].to(self.device), code).cpu())
        return torch.cat(out) if out else torch.zeros(0, *self.generator.image_shape)

    # ------------------------------------------------------------------ explanations
    def explain(
        self,
        sample: Union[Sample, int],
        patches: Union[Sequence[int], str, None] = None,
        n: Optional[int] = None,
        seed: int = 0,
        mask: Optional[Tensor] = None,
    ) -> "Explanation":
        """An :class:`Explanation` of ``sample`` (or of ``self.sample(seed)`` for an int) over the
        patches ``N``: explicit ids, ``"random"`` or ``"foreground"`` (default: ``n`` patches at
        random on the object — the model's foreground rule, :mod:`prsg_widgets.models.priors`,
        or a user ``mask`` ``(H, W)``; ``seed`` seeds the draw).
        Nothing is solved until a result is asked for."""
        if isinstance(sample, int):
            sample = self.sample(sample)
        if patches is None:
            patches = "foreground"
        if isinstance(patches, str) and n is None:
            n = 4
        if patches == "foreground" and mask is None and "foreground" in self.generator.extras:
            mask = self.generator.extras["foreground"](sample.code, sample.image)  # the model's own rule
        ids = select_patches(self.grid, n, patches, image=sample.image, reference=self.baseline_image,
                             mask=mask, seed=seed, max_patches=self.max_patches)
        return Explanation(self, sample, ids)

    def cache_key(self, sample: Sample, patches: Sequence[int]) -> str:
        """Hash of everything that determines the minimal features."""
        payload = {
            "model": self.generator.fingerprint(), "layer": self.generator.layer,
            "sample": sample.key(), "patches": list(map(int, patches)), "grid": self.grid.size,
            "image": list(self.generator.image_shape), "solver": self.config.as_dict(),
            "baseline": [self.baseline_samples, self.baseline_seed],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]

    # ------------------------------------------------------------------ scheduling
    def _submit(self, explanation: "Explanation", subsets: set[int], on_progress: Optional[ProgressCallback]) -> cf.Future:
        fut: cf.Future = cf.Future()
        req = _Request(explanation, set(subsets), fut, on_progress)
        if req.done():
            fut.set_result(explanation)
            return fut
        with self._cv:
            self._queue.append(req)
            self._stop.clear()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="prsg-solver", daemon=True)
                self._worker.start()
            self._cv.notify()
        return fut

    def cancel(self) -> None:
        """Stop the running solve; finished subsets stay stored, pending requests fail with
        :class:`SolveInterrupted`."""
        self._stop.set()

    def _step_and_check_stop(self) -> bool:
        """Asked by the solver once per batched iteration: count it, and say whether to stop."""
        self.solver_steps += 1
        return self._stop.is_set()

    def _run(self) -> None:
        while True:
            with self._cv:
                if not self._queue:
                    self.busy = False
                    self._worker = None
                    return
                expl = self._queue[0].explanation
                group = [r for r in self._queue if r.explanation is expl]
                self.busy = True
            wanted = set().union(*(r.subsets for r in group))
            if self.config.nested:  # f_T is bounded by every f_{T∖i}: solve all subsets below too
                wanted = _down_closure(wanted)
            todo = sorted(wanted - set(expl.solved_subsets()))
            try:
                expl._solve(todo, group, self._step_and_check_stop)
                error: Optional[BaseException] = None
            except BaseException as exc:  # handed to the waiting futures
                error = exc
            with self._cv:
                for r in group:
                    self._queue.remove(r)
                    if error is not None:
                        r.future.set_exception(error)
                    elif not r.future.done():
                        r.future.set_result(expl)

    def close(self) -> None:
        """Cancel pending work and wait for the worker to stop."""
        self.cancel()
        worker = self._worker
        if worker is not None:
            worker.join()


@dataclass
class _Request:
    explanation: "Explanation"
    subsets: set
    future: cf.Future
    on_progress: Optional[ProgressCallback] = None
    total: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.total = len(self.subsets)

    def remaining(self) -> int:
        solved = self.explanation._solved
        return sum(1 for s in self.subsets if not solved[s])

    def done(self) -> bool:
        return self.remaining() == 0


class Explanation:
    """Minimal features, feature components and regional patterns of one sample over the
    patches ``N`` — computed on demand, cached, shared by every view.

    Subsets ``T`` are given as an int bitmask over ``patches`` (bit i ⇔ ``patches[i]``) or as an
    iterable of patch ids.
    """

    def __init__(self, explainer: Optional[Explainer], sample: Sample, patches: Sequence[int]) -> None:
        self.explainer = explainer
        self.sample = sample
        self.patches: list[int] = [int(p) for p in patches]
        self.n = len(self.patches)
        size = 1 << self.n
        d = sample.feature.numel()
        self._features = torch.full((size, d), float("nan"))
        self._solved = np.zeros(size, dtype=bool)
        self.mse = np.full(size, np.nan)
        self.patch_mse = np.full((size, self.n), np.nan)  # each patch's own mse; nan outside T
        self.feasible = np.zeros(size, dtype=bool)  # every patch of T within ε
        self.iterations = np.zeros(size, dtype=np.int64)
        self._lock = threading.Lock()
        self._components: Optional[Tensor] = None
        self._listeners: list[Callable[["Explanation", list[int]], None]] = []
        self._cache_path: Optional[Path] = None
        self.baseline: Optional[Tensor] = None  # set below, or by load()
        self.epsilon: Optional[float] = None
        self.meta: dict = {}
        self.control: Optional["Explanation"] = None  # the dense control, once metrics.dense_control made it
        if explainer is not None:
            self.baseline = explainer.baseline.detach().cpu()
            self.epsilon = explainer.epsilon
            self._features[0] = self.baseline  # f_∅ = b without optimising
            self._solved[0] = True
            self.mse[0], self.feasible[0] = 0.0, True
            if explainer.cache is not None:
                self._cache_path = explainer.cache.path(explainer.cache_key(sample, self.patches))
                explainer.cache.load_into(self._cache_path, self)

    # ------------------------------------------------------------------ basic facts
    @property
    def num_subsets(self) -> int:
        return 1 << self.n

    @property
    def full(self) -> int:
        """Bitmask of ``N``."""
        return self.num_subsets - 1

    @property
    def feature(self) -> Tensor:
        return self.sample.feature.detach().cpu()

    @property
    def image(self) -> Tensor:
        return self.sample.image.detach().cpu()

    @property
    def grid(self) -> PatchGrid:
        return self.require_explainer().grid

    def subset(self, T: SubsetLike) -> int:
        """Bitmask of ``T`` (an int bitmask is returned checked; an iterable holds patch ids)."""
        if isinstance(T, (int, np.integer)):
            if not 0 <= int(T) < self.num_subsets:
                raise ValueError(f"subset bitmask {T} out of range for n={self.n} (0..{self.full})")
            return int(T)
        return patches_to_subset(T, self.patches)

    def subset_patches(self, T: SubsetLike) -> list[int]:
        return subset_to_patches(self.subset(T), self.patches)

    def solved_subsets(self) -> list[int]:
        return np.flatnonzero(self._solved).tolist()

    @property
    def progress(self) -> tuple[int, int]:
        """``(solved, total)`` minimal features."""
        return int(self._solved.sum()), self.num_subsets

    @property
    def is_complete(self) -> bool:
        return bool(self._solved.all())

    def is_solved(self, T: SubsetLike) -> bool:
        """Whether ``f_T`` is known."""
        return bool(self._solved[self.subset(T)])

    def solved_mask(self) -> np.ndarray:
        """Copy of the per-subset solved flags ``(2^n,)``."""
        return self._solved.copy()

    def component_ready(self, S: SubsetLike) -> bool:
        """Whether ``I(S)`` can be computed without solving: all ``f_{N∖L}``, ``L ⊆ S``, are known."""
        s = self.subset(S)
        return all(self._solved[self.full ^ sub] for sub in _submasks(s))

    @property
    def has_components(self) -> bool:
        """Whether the full component array is already computed (no solve or transform needed)."""
        return self._components is not None

    def on_update(self, callback: Callable[["Explanation", list[int]], None]) -> None:
        """Call ``callback(explanation, new_subsets)`` (from the worker thread) as results land."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[["Explanation", list[int]], None]) -> None:
        """Stop calling a callback registered with :meth:`on_update` (no error if absent)."""
        if callback in self._listeners:
            self._listeners.remove(callback)

    def require_explainer(self) -> Explainer:
        """The explainer this explanation renders and solves with (error if loaded without one)."""
        if self.explainer is None:
            raise RuntimeError("this explanation was loaded without an explainer; pass "
                               "Explanation.load(path, explainer=Explainer(...)) to solve or render")
        return self.explainer

    # ------------------------------------------------------------------ solving
    def submit(
        self,
        subsets: Optional[Iterable[SubsetLike]] = None,
        on_progress: Optional[ProgressCallback] = None,
    ) -> cf.Future:
        """Queue the minimal features of ``subsets`` (default: all ``2^n``) and return at once a
        future resolving to this explanation.  ``on_progress(done, total)`` reports this request."""
        wanted = range(self.num_subsets) if subsets is None else [self.subset(t) for t in subsets]
        return self.require_explainer()._submit(self, set(wanted), on_progress)

    def _ensure(self, subsets: Iterable[int]) -> None:
        missing = [s for s in subsets if not self._solved[s]]
        if not missing:
            return
        fut = self.submit(missing)
        try:
            fut.result()
        except KeyboardInterrupt:
            self.require_explainer().cancel()
            raise KeyboardInterrupt(
                f"interrupted: {self.progress[0]} of {self.num_subsets} minimal features are kept"
                + (f" (also on disk in {self._cache_path})" if self._cache_path else "")
                + "; call again to resume"
            ) from None

    def solve_all(self) -> "Explanation":
        """Solve every minimal feature (blocking; Ctrl-C keeps the finished ones)."""
        self._ensure(range(self.num_subsets))
        return self

    def _solve(self, todo: list[int], requests: list[_Request], should_stop: Callable[[], bool]) -> None:
        ex = self.require_explainer()
        if not todo:
            return
        gen = ex.generator
        patch_masks = ex.grid.patch_masks(self.patches, device=ex.device)
        known = None
        if ex.config.nested:
            todo_set = set(todo)
            need = {t & ~(1 << i) for t in todo for i in range(self.n) if (t >> i) & 1} - todo_set
            known = {t: self._features[t].to(ex.device) for t in need}
        last_save = [time.monotonic()]

        def on_result(res: SolveResult) -> None:
            rows = res.subsets.tolist()
            with self._lock:
                self._features[rows] = res.features.float().cpu()
                self.mse[rows] = res.mse.cpu().numpy()
                self.patch_mse[rows] = res.patch_mse.cpu().numpy()
                self.feasible[rows] = res.feasible.cpu().numpy()
                self.iterations[rows] = res.iterations.cpu().numpy()
                self._solved[rows] = True
                self._components = None
            finished = [r for r in requests if not r.future.done() and r.done()]
            if self._cache_path is not None and (finished or time.monotonic() - last_save[0] > 2.0):
                ex.cache.save(self._cache_path, self)  # on disk before any caller is told
                last_save[0] = time.monotonic()
            for r in requests:
                if r.on_progress is not None:
                    r.on_progress(r.total - r.remaining(), r.total)
            for cb in list(self._listeners):
                cb(self, rows)
            for r in finished:
                r.future.set_result(self)

        try:
            solve_minimal_features(
                lambda f: gen.tail(f, self.sample.code), self.sample.feature.to(ex.device),
                ex.baseline, self.sample.image.to(ex.device), patch_masks, todo, ex.config, epsilon=ex.epsilon,
                batch_size=ex.batch_size, feature_shape=gen.feature_shape,
                progress=ex.progress, on_result=on_result, should_stop=should_stop, known=known,
            )
        finally:
            if self._cache_path is not None:
                ex.cache.save(self._cache_path, self)

    # ------------------------------------------------------------------ results
    def minimal_feature(self, T: SubsetLike) -> Tensor:
        """``f_T`` (Eq. 5), flattened ``(d,)``; solved on demand."""
        t = self.subset(T)
        self._ensure([t])
        return self._features[t].clone()

    def minimal_features(self) -> Tensor:
        """All ``f_T`` ``(2^n, d)`` indexed by bitmask; solves what is missing."""
        self.solve_all()
        return self._features.clone()

    def component(self, S: SubsetLike) -> Tensor:
        """``I(S)`` (Eq. 6).  Needs only ``f_{N∖L}`` for ``L ⊆ S`` (``2^{|S|}`` minimal features)."""
        s = self.subset(S)
        if s == 0:
            return torch.zeros_like(self._features[0])
        if self._components is not None:
            return self._components[s].clone()
        subs = [sub for sub in _submasks(s)]
        self._ensure([self.full ^ sub for sub in subs])
        acc = torch.zeros(self._features.shape[1], dtype=torch.float64)
        pop = bin(s).count("1")
        for sub in subs:
            sign = -1.0 if (pop - bin(sub).count("1")) % 2 else 1.0
            acc += sign * (self._features[self.full ^ sub].double() - self.baseline.double())
        return (-acc).float()

    def component_array(self) -> Tensor:
        """All components ``I(S)`` ``(2^n, d)``, row 0 = ``I(∅)`` = 0; solves everything."""
        self.solve_all()
        if self._components is None:
            u = (self._features.double() - self.baseline.double())
            self._components = harsanyi.or_interactions(u).float()
        return self._components.clone()

    def norms(self) -> Tensor:
        """``‖I(S)‖₂`` for every ``S`` ``(2^n,)``."""
        return self.component_array().norm(dim=1)

    def components(self, top: Optional[int] = None, order: Optional[int] = None,
                   covering: Optional[Iterable[int]] = None) -> list[Component]:
        """Non-empty components sorted by L2 norm (descending), optionally only those of order
        ``|S| = order`` or whose action field contains all patch ids in ``covering``."""
        comps = self.component_array()
        norms = comps.norm(dim=1)
        need = self.subset(list(covering)) if covering is not None else 0
        picked = []
        for s in torch.argsort(norms, descending=True, stable=True).tolist():
            if s == 0 or (s & need) != need:
                continue
            if order is not None and bin(s).count("1") != order:
                continue
            picked.append(Component(s, tuple(self.subset_patches(s)), comps[s], float(norms[s])))
            if top is not None and len(picked) >= top:
                break
        return picked

    def reconstruct(self, keep: Optional[Iterable[int]] = None) -> Tensor:
        """Eq. 7: ``f̂_T = b + Σ_{S∈keep, S∩T≠∅} I(S)`` for all ``T`` ``(2^n, d)``."""
        comps = self.component_array().double()
        return (self.baseline.double() + harsanyi.reconstruct(comps, keep)).float()

    def regional_pattern(self, S: SubsetLike) -> Tensor:
        """``Δx_S = g(f_N) − g(f_N − I(S))`` ``(C, H, W)`` (Fig. 2)."""
        return self.regional_patterns([S])[0]

    def regional_patterns(self, subsets: Sequence[SubsetLike]) -> Tensor:
        """Regional patterns of several components at once ``(k, C, H, W)``."""
        ex = self.require_explainer()
        ss = [self.subset(s) for s in subsets]
        f_n = self.minimal_feature(self.full)
        comps = torch.stack([self.component(s) for s in ss]) if ss else torch.zeros(0, f_n.numel())
        feats = torch.cat([f_n.unsqueeze(0), f_n.unsqueeze(0) - comps])
        imgs = ex.render(feats, self.sample.code)
        return imgs[:1] - imgs[1:]

    def render(self, features: Tensor) -> Tensor:
        """``g(f)`` of flattened features ``(k, d)`` for this sample's code."""
        return self.require_explainer().render(features, self.sample.code)

    # ------------------------------------------------------------------ health
    @property
    def max_patch_mse(self) -> np.ndarray:
        """The worst patch's mse per subset ``(2^n,)`` (0 for ∅, ``nan`` where unsolved)."""
        worst = worst_patch_mse(torch.from_numpy(np.asarray(self.patch_mse, dtype=np.float64))).numpy()
        return np.where(self._solved, worst, np.nan)

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
        return explanation_health(self._features, self.baseline, self.feature, self.patch_mse,
                                  float(self.epsilon), comps, k=k, control_mass_share=control)

    # ------------------------------------------------------------------ persistence
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays of the CLI's ``explanation.npz`` (see README)."""
        comps = self.component_array()
        return {
            "patches": np.asarray(self.patches, dtype=np.int64),
            "minimal_features": self._features.numpy().copy(),
            "components": comps.numpy(),
            "baseline": self.baseline.numpy().copy(),
            "feature": self.feature.numpy().copy(),
            "image": self.image.numpy().copy(),
            "mse": self.mse.copy(),
            "patch_mse": self.patch_mse.copy(),
            "max_patch_mse": self.max_patch_mse,
            "feasible": self.feasible.copy(),
            "iterations": self.iterations.copy(),
            "epsilon": np.float64(self.epsilon),
            "code": self.sample.code.detach().cpu().numpy(),
        }

    def save(self, path: Union[str, Path]) -> Path:
        """Write all arrays plus metadata to ``path`` (``.npz``); :meth:`load` restores it exactly."""
        path = Path(path)
        arrays = self.to_arrays()
        meta = {"seed": self.sample.seed, "label": self.sample.label}
        if self.explainer is not None:
            ex = self.explainer
            meta.update(model=ex.generator.name, layer=ex.generator.layer, grid=ex.grid.size,
                        solver=ex.config.as_dict())
        arrays["meta"] = np.asarray(json.dumps(meta))
        if self.sample.object_masks is not None:
            arrays["object_masks"] = self.sample.object_masks.detach().cpu().numpy()
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **arrays)
        return path

    @classmethod
    def load(cls, path: Union[str, Path], explainer: Optional[Explainer] = None) -> "Explanation":
        """Read an explanation written by :meth:`save`.  Without ``explainer`` the arrays and
        components are available; rendering needs the explainer of the same model and layer."""
        try:
            data = np.load(Path(path), allow_pickle=False)
            meta = json.loads(str(data["meta"]))
            masks = torch.from_numpy(data["object_masks"]) if "object_masks" in data else None
            sample = Sample(meta.get("seed"), torch.from_numpy(data["code"]), torch.from_numpy(data["image"]),
                            torch.from_numpy(data["feature"]), masks, meta.get("label", ""))
            if explainer is not None:
                sample.code = sample.code.to(explainer.device)
            expl = cls(None, sample, data["patches"].tolist())
            expl.explainer = explainer
            expl.baseline = torch.from_numpy(data["baseline"])
            expl.epsilon = float(data["epsilon"])
            expl._features = torch.from_numpy(data["minimal_features"])
            expl._solved = np.ones(expl.num_subsets, dtype=bool)
            expl.mse, expl.feasible = data["mse"], data["feasible"]
            expl.patch_mse = data["patch_mse"]
            expl.iterations = data["iterations"]
            expl.meta = meta
            return expl
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"{path} is not a readable prsg explanation file ({exc}); re-create it "
                             "with Explanation.save") from exc


def _down_closure(subsets: Iterable[int]) -> set[int]:
    """Every subset of every bitmask in ``subsets``."""
    out: set[int] = set()
    for s in subsets:
        if s not in out:
            out.update(_submasks(s))
    return out


def _submasks(s: int) -> list[int]:
    out, sub = [], s
    while True:
        out.append(sub)
        if sub == 0:
            return out
        sub = (sub - 1) & s
