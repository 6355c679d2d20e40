r"""``Explainer``: a generator split at a layer, ready to explain its samples.

It owns the model, the device, the baseline ``b``, the patch grid and the solver settings, checks
every input before any work, and makes :class:`~prsg_widgets.backend.explanation.Explanation`\\ s.
Solving is delegated: a :class:`~prsg_widgets.backend.scheduler.Scheduler` (one worker thread)
runs the batched solves, a :class:`~prsg_widgets.backend.persistence.store.Store` keeps the results in memory
and, with ``cache_dir``, on disk.  Use it as a context manager (or call :meth:`Explainer.close`)
so the worker is joined and every finished result saved::

    with Explainer("dcgan-faces", cache_dir="~/.cache/prsg") as ex:
        expl = ex.explain(0, n=4).solve_all()
"""
from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

import numpy as np
import torch
from torch import Tensor

from ..core import harsanyi
from ..core.errors import SettingsError
from ..core.grid import PatchGrid, select_patches
from ..core.solver import SOLVER_VERSION, SolverConfig, SolveResult, solve_minimal_features
from ..core.solver.precision import resolve_precision
from ..core.validate import check_device, check_finite, check_n_matches_patches, check_positive_int, check_seed
from ..models import SplitGenerator, load_generator
from .explanation import Explanation, ExplanationMeta
from .persistence.filecheck import PartContext, check_baseline
from .persistence.store import FORMAT, SolveRecord, Store
from .sample import Component, Sample
from .scheduler import InFlight, ProgressCallback, Scheduler
from .settings import DEFAULT_N, Execution, Settings

__all__ = ["Component", "Execution", "Explainer", "Explanation", "ExplanationMeta", "Sample", "Settings"]


_T = TypeVar("_T")


class _FromSettings(Generic[_T]):
    """A read-only attribute of an :class:`Explainer` read from its :attr:`Explainer.settings`
    field (or property) of the same name: the settings are the one source, nothing is copied.
    """

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, explainer: None, owner: type | None = None) -> _FromSettings[_T]: ...

    @overload
    def __get__(self, explainer: Explainer, owner: type | None = None) -> _T: ...

    def __get__(self, explainer: Explainer | None, owner: type | None = None) -> _T | _FromSettings[_T]:
        return self if explainer is None else getattr(explainer.settings, self.name)

    def __set__(self, explainer: Explainer, value: object) -> None:
        raise AttributeError(f"{self.name} is read from the explainer's settings; make another explainer "
                             f"instead: Explainer(settings=explainer.settings.replace({self.name}=...))")


class Explainer:
    """Explain a generator's intermediate feature.

    ``generator`` is a built-in name (see :data:`prsg_widgets.models.MODELS`) or a
    :class:`SplitGenerator` (default ``"dcgan-faces"``).  Every other setting is a field of
    :class:`~prsg_widgets.backend.settings.Settings`, given as ``settings=`` and/or as keywords
    (``grid``, ``layer``, ``cheap``, ``solver`` or ``preset``, ``n``/``patches`` (the defaults of
    :meth:`explain`), ``precision``, ``compile``, ``channels_last``, ``device``, ``batch_size``,
    ``cache_dir``, ``max_patches``, ``baseline_samples``, ``baseline_seed``, ``progress``), and
    other keywords change single solver settings (``iterations=...``); all of them are checked
    by the :class:`Settings`, kept as :attr:`settings` (the one source: :attr:`config`,
    :attr:`precision`, :attr:`batch_size` … read it).  ``solver`` is a preset name or a
    :class:`SolverConfig`.  ``device=None`` picks CUDA when available.  ``batch_size=None`` lets
    a memory budget choose.  ``cache_dir`` keeps every solved subset on disk, so a rerun (or a run
    after Ctrl-C) solves only what is missing.  ``precision`` (``"fp32"``/``"bf16"``), ``compile``
    and ``channels_last`` are the solver's execution options, handed to
    :func:`~prsg_widgets.core.solver.solve_minimal_features` as one :attr:`execution`; bf16 is
    part of the cache key.
    ``client`` (a ``distributed.Client``; a model by name, registered ones shared with the workers,
    and ``cache_dir`` on a file system the workers share) farms the solves out to a Dask cluster
    in chunks; see :mod:`prsg_widgets.backend.remote`.
    """

    def __init__(
        self,
        generator: str | SplitGenerator | Settings | None = None,
        settings: Settings | None = None,
        *,
        client=None,
        **options,
    ) -> None:
        # every setting is checked (once, by Settings) before the model is loaded or anything is solved
        if isinstance(generator, Settings):
            if settings is not None:  # two settings: which one wins would be a silent guess
                raise SettingsError("give the Settings once: Explainer(settings) or Explainer(settings=settings), "
                                    "not both (use settings.replace-style keywords, e.g. Explainer(s, grid=2))")
            generator, settings = None, generator
        if settings is not None and not isinstance(settings, Settings):
            raise SettingsError(f"settings must be a Settings (give other settings as keywords, e.g. grid=6), "
                                f"got {type(settings).__name__}")
        if generator is not None:
            options["model"] = generator
        settings = Settings.of(settings, **options) if options or settings is None else settings
        self._settings = settings
        self.device = check_device(settings.device)
        self.store = Store(settings.cache_dir)
        model, layer = settings.model, settings.layer
        split: SplitGenerator
        if isinstance(model, str):
            split = load_generator(model, layer=layer, device=self.device, cheap=settings.cheap)
        else:
            split = model
            if layer is not None and layer != split.layer:
                raise SettingsError("layer= applies to built-in names; split your own generator at the layer instead")
        self.generator = split.to(self.device)
        _, h, w = self.generator.image_shape
        if settings.grid > min(h, w):
            raise SettingsError(f"grid {settings.grid} is finer than the {h}×{w} image; use at most {min(h, w)}")
        self.grid = PatchGrid(h, w, settings.grid)
        self.epsilon = self.config.epsilon_for(self.generator.value_range)
        self.baseline = self._baseline().to(self.device)
        with torch.no_grad():
            self.baseline_image = self.generator.tail(self.baseline.unsqueeze(0))[0]
        self.scheduler = Scheduler(self.store)
        self.client = client
        if client is not None:  # solves go to a Dask cluster (see prsg_widgets.backend.remote)
            from .remote import spec_of

            if not isinstance(settings.model, str):
                raise SettingsError("Explainer(client=...) needs a model name (built-in, or added with "
                                    "register_model), which every worker loads")
            from ..models import share_models

            share_models(client, [settings.model])  # a model registered here reaches the workers too
            self._spec = spec_of(self)

    # ------------------------------------------------------------------ settings
    @property
    def settings(self) -> Settings:
        """Every setting of this explainer, checked once (read-only: make a twin with
        ``Explainer(settings=ex.settings.replace(...))``).  The attributes below read it.
        """
        return self._settings

    # read from the settings (they were copies of them); assigning one is an AttributeError
    config = _FromSettings[SolverConfig]("The solver settings (:attr:`Settings.config`).")

    @property
    def execution(self) -> Execution:
        """How the solver runs the generator tail: :attr:`Settings.execution` with its precision
        resolved for this explainer's device (``"auto"`` is never left in it).
        """
        execution, precision = self.settings.execution, self.precision
        return execution if execution.precision == precision else dataclasses.replace(execution, precision=precision)

    @property
    def precision(self) -> str:
        """The precision solves run in (``"fp32"``, ``"bf16"`` or ``"mixed"``): :attr:`Settings.precision`,
        with ``"auto"`` resolved for the device (:func:`~prsg_widgets.core.solver.precision.resolve_precision`).
        It is in every explanation's metadata and health, and in the cache key.
        """
        return resolve_precision(self.settings.precision, self.device)
    compile = _FromSettings[bool]("Whether the tail runs through ``torch.compile`` (:attr:`Settings.compile`).")
    channels_last = _FromSettings[bool]("Whether the tail gets channels-last features.")
    batch_size = _FromSettings[int | None]("Subsets per solver batch (``None``: from memory).")
    max_patches = _FromSettings[int]("The most patches an explanation may have (:attr:`Settings.max_patches`).")
    baseline_samples = _FromSettings[int]("Forward passes averaged into the baseline ``b``.")
    baseline_seed = _FromSettings[int]("The seed of the baseline's samples.")
    progress = _FromSettings[Any]("The solver's progress display (:attr:`Settings.progress`).")

    def _baseline(self) -> Tensor:
        """``b`` from the store when it has it (K forward passes saved), else computed."""
        gen, k, seed = self.generator, self.baseline_samples, self.baseline_seed
        key = f"baseline-{gen.fingerprint()}-{k}-{seed}"
        cached = self.store.load_tensor(key, (gen.d,))
        if cached is None:
            cached = check_finite(gen.baseline(k, seed), f"the baseline of layer {gen.layer!r}")
            self.store.save_tensor(key, cached)
        return cached

    # ------------------------------------------------------------------ lifecycle
    @property
    def busy(self) -> bool:
        """Whether a solve is running."""
        return self.scheduler.busy

    @property
    def solver_steps(self) -> int:
        """Batched solver iterations run so far (a heartbeat for progress displays and ETAs)."""
        return self.scheduler.steps

    def in_flight(self) -> InFlight | None:
        """What the solver is working on now (explanation key, ``{subset: iterations}`` of the
        batch, the per-start budget, subsets waiting), or ``None`` — for progress displays.
        """
        return self.scheduler.in_flight()

    @property
    def cache_dir(self) -> Path | None:
        """The folder that keeps every solved subset on disk (``None``: memory only)."""
        return self.store.directory

    def cancel(self) -> None:
        """Stop the running solve; finished subsets stay stored (and saved), pending requests fail
        with :class:`~prsg_widgets.core.solver.SolveInterrupted`.
        """
        self.scheduler.cancel()

    def close(self) -> None:
        """Cancel pending work, wait for the worker to save and stop."""
        self.scheduler.close()

    def __enter__(self) -> Explainer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ samples
    def sample(self, seed: int) -> Sample:
        """The image generated from the code drawn with ``seed``."""
        seed = check_seed(seed)
        code = self.generator.sample_codes(1, torch.Generator().manual_seed(seed)).to(self.device)
        return self.sample_from_code(code, seed=seed)

    def sample_from_code(self, code: Tensor, seed: int | None = None) -> Sample:
        """A sample from an explicit code ``(1, ...)``, of the shape the model's ``sample_codes`` makes."""
        code = check_finite(torch.as_tensor(code), "the code").to(self.device)
        expected = tuple(self.generator.sample_codes(1, torch.Generator().manual_seed(0)).shape)
        if tuple(code.shape) != expected:
            raise ValueError(f"code has shape {tuple(code.shape)}; {self.generator.name} takes codes of shape "
                             f"{expected} (one code, with the batch dimension of 1)")
        with torch.no_grad():
            feature = self.generator.head(code).reshape(-1)
            image = self.generator.tail(feature.unsqueeze(0), code)[0]
        check_finite(feature, f"the feature at layer {self.generator.layer!r}")
        check_finite(image, "the generated image")
        return Sample(seed, code, image, feature, self.generator.object_masks(code),
                      label=f"seed {seed}" if seed is not None else "code")

    def sample_from_feature(self, feature: Tensor, code: Tensor | None = None, label: str = "feature") -> Sample:
        """A sample whose feature is given directly (e.g. the dense control of App. I)."""
        feature = check_finite(torch.as_tensor(feature), "the feature").reshape(-1).to(self.device)
        if feature.numel() != self.generator.d:
            raise ValueError(f"feature has {feature.numel()} values, the layer has {self.generator.d}")
        if code is None:
            code = self.generator.sample_codes(1, torch.Generator().manual_seed(0)).to(self.device)
        with torch.no_grad():
            image = self.generator.tail(feature.unsqueeze(0), code)[0]
        check_finite(image, "the image rendered from this feature")
        return Sample(None, code, image, feature, None, label=label)

    def render(self, features: Tensor, code: Tensor | None = None, batch: int = 64) -> Tensor:
        """``g(f)`` for flattened features ``(k, d)`` → images ``(k, C, H, W)``, in batches, no grad."""
        out = []
        with torch.no_grad():
            for i in range(0, features.shape[0], batch):
                out.append(self.generator.tail(features[i:i + batch].to(self.device), code).cpu())
        return torch.cat(out) if out else torch.zeros(0, *self.generator.image_shape)

    # ------------------------------------------------------------------ explanations
    def explain(
        self,
        sample: Sample | int,
        patches: Sequence[int] | str | None = None,
        n: int | None = None,
        seed: int = 0,
        mask: Tensor | None = None,
    ) -> Explanation:
        """An :class:`Explanation` of ``sample`` (or of ``self.sample(seed)`` for an int) over the
        patches ``N``: explicit ids, ``"random"`` or ``"foreground"`` (default: ``n`` patches at
        random on the object — the model's foreground rule, :mod:`prsg_widgets.models.priors`,
        or a user ``mask`` ``(H, W)``; ``seed`` seeds the draw).  Ids may be a list, a tensor or a
        numpy array; with ids, ``n`` is their number (another ``n`` is an error, never ignored).
        Nothing is solved until a result is asked for.
        """
        if patches is None and n is None:  # the explainer's own defaults (Settings.patches / .n)
            patches, n = (list(self.settings.patches) if self.settings.patches is not None else None), self.settings.n
        if isinstance(patches, np.ndarray) and patches.ndim >= 1:  # its items keep their dtype: 5.0 is refused
            patches = list(patches)
        if n is not None and patches is not None:
            check_n_matches_patches(check_positive_int(n, "n", max=64), patches)
        if not isinstance(sample, Sample):
            sample = self.sample(check_seed(sample, "sample (a seed)"))
        check_finite(sample.image, "the image")
        check_finite(sample.feature, "the feature")
        if patches is None:
            patches = "foreground"
        if isinstance(patches, str) and n is None:
            n = DEFAULT_N
        if patches == "foreground" and mask is None and "foreground" in self.generator.extras:
            mask = self.generator.extras["foreground"](sample.code, sample.image)  # the model's own rule
        ids = select_patches(self.grid, n, patches, image=sample.image, reference=self.baseline_image,
                             mask=mask, seed=seed, max_patches=self.max_patches)
        key = self.cache_key(sample, ids)
        meta = self.meta(sample)
        record = self.store.record(key, len(ids), self.generator.d,
                                   describe={**meta.as_dict(), "patches": ids, "sample": sample.key()})
        self.store.verify_tensors(lambda value: check_baseline(value, self))  # what was read from disk must fit
        if record.context is None:
            self.store.verify(key, record, PartContext.of(sample.feature.detach().cpu(), self.baseline.cpu(),
                                                          self.epsilon, meta.value_range, meta.solver))
        return Explanation(record, sample, ids, meta, self.baseline, self.epsilon, explainer=self, key=key)

    def meta(self, sample: Sample | None = None) -> ExplanationMeta:
        """The metadata an explanation of ``sample`` made here carries."""
        from .._version import __version__

        gen = self.generator
        return ExplanationMeta(
            model=gen.name, layer=gen.layer, grid=self.grid.size, image_shape=tuple(gen.image_shape),
            value_range=(float(gen.value_range[0]), float(gen.value_range[1])), feature_shape=tuple(gen.feature_shape),
            solver=self.config.as_dict(), fingerprint=gen.fingerprint(), baseline_samples=self.baseline_samples,
            baseline_seed=self.baseline_seed, seed=None if sample is None else sample.seed,
            label="" if sample is None else sample.label, version=__version__, precision=self.precision)

    def cache_key(self, sample: Sample, patches: Sequence[int]) -> str:
        """Hash of everything that determines the minimal features."""
        payload = {
            "format": FORMAT, "solver_version": SOLVER_VERSION, "model": self.generator.fingerprint(),
            "layer": self.generator.layer,
            "sample": sample.key(), "patches": list(map(int, patches)), "grid": self.grid.size,
            "image": list(self.generator.image_shape), "solver": self.config.as_dict(),
            "baseline": [self.baseline_samples, self.baseline_seed],
        }
        if self.precision != "fp32":  # bf16 changes the results beyond float rounding
            payload["precision"] = self.precision
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]

    # ------------------------------------------------------------------ solving
    def submit(self, explanation: Explanation, subsets: Sequence[int],
               on_progress: ProgressCallback | None = None) -> cf.Future:
        """Queue ``subsets`` (bitmasks) of ``explanation``; see :meth:`Explanation.submit`."""
        return self._submit(explanation, subsets, on_progress)

    def _submit(self, explanation: Explanation, subsets: Sequence[int], on_progress: ProgressCallback | None = None,
                here: bool = False) -> cf.Future:
        if explanation.explainer is not self:
            raise ValueError("this explanation belongs to another explainer")
        if explanation.key is None:
            raise ValueError("this explanation was built from given minimal features "
                             "(with_minimal_features) and cannot solve more: give every row it needs")
        return self.scheduler.submit(_SolveJob(self, explanation), list(subsets), on_progress, here=here)

    def solve(self, explanation: Explanation, subsets: Sequence[int]) -> Explanation:
        """Solve ``subsets`` of ``explanation`` and wait.  Ctrl-C stops the solve, waits until the
        finished subsets are saved and raises ``KeyboardInterrupt`` saying how many are kept.
        When no solve is running, this thread solves (the scheduler's ``here``: faster than a
        worker thread on few cores).
        """
        try:
            return self._submit(explanation, subsets, here=True).result()
        except KeyboardInterrupt:
            self.scheduler.close()  # the solver saves what finished, then stops
            done, total = explanation.progress
            done, total = done - 1, total - 1  # count the non-empty subsets, as every other message does
            where = "; they are in memory only (give cache_dir / --cache-dir to keep work across runs)"
            if self.store.directory is not None and explanation.key is not None:
                where = (f"; {self.store.on_disk(explanation.key)} are on disk in "
                         f"{self.store.folder(explanation.key)}")
            raise KeyboardInterrupt(f"interrupted: {done} of {total} minimal features are solved{where}; "
                                    "call again (or rerun with the same cache) to resume") from None


class _SolveJob:
    """One explanation's solve, as the scheduler sees it (key, record, plan, run)."""

    def __init__(self, explainer: Explainer, explanation: Explanation) -> None:
        self.explainer = explainer
        self.explanation = explanation
        assert explanation.key is not None  # explain() keys every explanation it can solve
        self.key: str = explanation.key
        self.record: SolveRecord = explanation._record
        self.owner: object = explanation
        self.budget = explainer.config.iterations

    def plan(self, wanted: set[int]) -> list[int]:
        if self.explainer.config.nested:  # f_T is bounded by every f_{T∖i}: solve all subsets below too
            wanted = harsanyi.down_closure(wanted)
        solved = self.record.solved
        return sorted(s for s in wanted if not solved[s])

    def run(self, todo: list[int], on_result: Callable[[SolveResult], None], should_stop: Callable[[], bool],
            on_step: Callable[[dict], None] | None = None) -> None:
        if not todo:
            return
        ex, expl = self.explainer, self.explanation
        if ex.client is not None:
            from .remote import run_on_cluster

            return run_on_cluster(self, todo, on_result, should_stop)
        gen = ex.generator
        known = None
        if ex.config.nested:
            need = {t & ~(1 << i) for t in todo for i in range(expl.n) if (t >> i) & 1} - set(todo)
            known = {t: self.record.features[t].to(ex.device) for t in need}
        solve_minimal_features(
            lambda f: gen.tail(f, expl.sample.code), expl.sample.feature.to(ex.device), ex.baseline,
            expl.sample.image.to(ex.device), ex.grid.patch_masks(list(expl.patches), device=ex.device), todo,
            ex.config, epsilon=ex.epsilon, batch_size=ex.batch_size, feature_shape=gen.feature_shape,
            progress=ex.progress, on_result=on_result, should_stop=should_stop, known=known, on_step=on_step,
            execution=ex.execution,
        )
