"""The per-image measurements of a study, by name: :data:`SWEEP_METRICS`.

Each entry is a :class:`SweepMetric`: a function of one solved image (:class:`SweepImage`: the
explanation, its seed, its component ranking and the :class:`MetricOptions`) that returns a
JSON-able dict, stored in the image's summary under the metric's name (``study.images[i][name]``).
A ``"mean"`` in that dict is the image's number: :meth:`Study.values(name)
<prsg_widgets.sweep.study.Study.values>` reads it and ``study.md`` shows its spread.

The built-in metrics are ρ, boundary breach and inconsistency (switched by the
:class:`MetricOptions` flags of the same names); add your own with :func:`register_metric` and
choose it with ``sweep(metrics=["rho", "mine"])`` or ``MetricOptions(extra=("mine",))``.  The
sweep sends the chosen entries themselves to its workers (a function pickled by Dask: one of an
importable module, or one defined in the notebook), so a metric registered in the client's
process runs on any cluster.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._registry import Registry
from ..core.errors import NameNotFoundError, SettingsError

__all__ = ["MetricOptions", "SweepImage", "SweepMetric", "SWEEP_METRICS", "UnknownMetricError",
           "register_metric", "unregister_metric", "metric_options"]


class UnknownMetricError(NameNotFoundError, SettingsError):
    """A metric name that is not in :data:`SWEEP_METRICS` (a ``KeyError`` and a ``ValueError``)."""


@dataclass(frozen=True)
class MetricOptions:
    """What :func:`~prsg_widgets.sweep.tasks.image_metrics` measures per image.

    ``top``: components ranked and returned (for transferability; at least ``k_b``); ``rho_top``:
    the strongest components whose ρ is measured; ``inconsistency_top`` components with at most
    ``max_contexts`` contexts each; ``breach``: boundary breach of every patch (all components).
    ``rho`` / ``breach`` / ``inconsistency`` switch the built-in metrics; ``extra``: more metrics
    of :data:`SWEEP_METRICS` by name (or :class:`SweepMetric` entries), measured after them.
    """

    top: int = 100
    rho_top: int = 100
    inconsistency_top: int = 3
    max_contexts: int = 8
    breach: bool = True
    rho: bool = True
    inconsistency: bool = True
    extra: tuple = ()

    def chosen(self) -> list[SweepMetric]:
        """The metrics to measure, in order: the built-in ones whose flag is on, then ``extra``
        (names looked up in :data:`SWEEP_METRICS`: an :class:`UnknownMetricError` lists them).
        """
        flagged = [SWEEP_METRICS[name] for name in SWEEP_METRICS.builtin if getattr(self, name)]
        extra = [m if isinstance(m, SweepMetric) else SWEEP_METRICS.get_entry(m) for m in self.extra]
        names = [m.name for m in flagged + extra]
        if len(set(names)) != len(names):
            raise SettingsError(f"metrics {names} name a metric twice")
        return flagged + extra

    def resolved(self) -> MetricOptions:
        """These options with ``extra`` as :class:`SweepMetric` entries (what a worker needs: it
        may not have the registrations of this process).
        """
        builtin = set(SWEEP_METRICS.builtin)
        return dataclasses.replace(self, extra=tuple(m for m in self.chosen() if m.name not in builtin))


@dataclass(frozen=True)
class SweepImage:
    """What a metric is given: one solved image of a study.

    ``explanation``: the :class:`~prsg_widgets.Explanation` (complete); ``seed``; ``ranking``: its
    strongest components as ``(subset, norm)`` pairs, strongest first (``options.top`` of them);
    ``options``: the sweep's :class:`MetricOptions`.
    """

    explanation: Any
    seed: int
    ranking: Sequence[tuple[int, float]]
    options: MetricOptions


@dataclass(frozen=True)
class SweepMetric:
    """A named per-image measurement: ``compute(image: SweepImage) -> dict`` (JSON-able; a
    ``"mean"`` is the image's number), ``needs`` the :class:`MetricOptions` fields it reads.
    """

    name: str
    compute: Callable[[SweepImage], dict]
    needs: tuple[str, ...] = ()
    description: str = ""

    def __call__(self, image: SweepImage) -> dict:
        """``compute(image)``, checked to be a dict (the image's summary stores it)."""
        result = self.compute(image)
        if not isinstance(result, dict):
            raise TypeError(f"metric {self.name!r} returned {type(result).__name__}, not a dict")
        return result


def finite(x) -> float | None:
    """``float(x)``, or ``None`` for NaN and ±inf (JSON has neither)."""
    x = float(x)
    return x if np.isfinite(x) else None


def _rho(image: SweepImage) -> dict:
    from .. import metrics as M

    picked = [s for s, _ in image.ranking[: image.options.rho_top]]
    rho = M.real_action_field_ratios(image.explanation, picked)
    area = M.action_field_area(image.explanation, picked)
    return {"mean": finite(np.nanmean(rho)) if len(rho) else None,
            "chance": finite(np.mean(area)) if len(area) else None,
            "values": [finite(v) for v in rho]}


def _breach(image: SweepImage) -> dict:
    from .. import metrics as M

    expl = image.explanation
    ratios = [M.boundary_breach(expl, p).breach_ratio for p in expl.patches]
    return {"mean": finite(np.nanmean(ratios)) if np.isfinite(ratios).any() else None,
            "per_patch": [finite(v) for v in ratios]}


def _inconsistency(image: SweepImage) -> dict:
    from .. import metrics as M

    expl, options = image.explanation, image.options
    cands = [s for s, _ in image.ranking if s != expl.full][: options.inconsistency_top]
    vals = [M.inconsistency(expl, s, max_contexts=options.max_contexts, seed=int(image.seed)).mean for s in cands]
    return {"mean": finite(np.nanmean(vals)) if np.isfinite(vals).any() else None,
            "subsets": cands, "values": [finite(v) for v in vals]}


_RESERVED = {"seed", "patches", "key", "n", "model", "layer", "health", "warnings", "top", "metrics_seconds",
             "worker"}  # the other keys of an image's summary
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_metric(metric: SweepMetric) -> SweepMetric:
    if not isinstance(metric, SweepMetric):
        raise SettingsError(f"a sweep metric is a SweepMetric, got {type(metric).__name__}")
    if not isinstance(metric.name, str) or not _NAME.match(metric.name) or metric.name in _RESERVED:
        raise SettingsError(f"metric name {metric.name!r}: use a Python identifier (e.g. 'edge_energy') that is "
                            f"not one of the summary's own keys ({', '.join(sorted(_RESERVED))})")
    if not callable(metric.compute):
        raise SettingsError(f"metric {metric.name!r}: compute must be callable (SweepImage) -> dict")
    options = {f.name for f in dataclasses.fields(MetricOptions)}
    unknown = [n for n in metric.needs if n not in options]
    if unknown:
        raise SettingsError(f"metric {metric.name!r} needs {unknown}, which are not MetricOptions fields "
                            f"({', '.join(sorted(options))}); give your own parameters with functools.partial")
    return metric


SWEEP_METRICS: Registry[SweepMetric] = Registry(
    {m.name: m for m in [
        SweepMetric("rho", _rho, ("rho_top",), "ρ of the strongest components and its chance level (Sec. 3.2.1)"),
        SweepMetric("breach", _breach, (), "boundary breach ratio of every patch (Sec. 3.2.2)"),
        SweepMetric("inconsistency", _inconsistency, ("inconsistency_top", "max_contexts"),
                    "inconsistency of the strongest components over sampled contexts (Sec. 3.3)"),
    ]},
    kind="metric", check=_check_metric, unknown_error=UnknownMetricError)
"""The per-image metrics a sweep can measure, by name (a read-only mapping; see :func:`register_metric`)."""


def register_metric(name: str, compute: Callable[[SweepImage], dict], needs: Iterable[str] = (),
                    description: str = "", *, replace: bool = False) -> SweepMetric:
    """Make ``name`` a per-image metric of sweeps: ``compute(image)`` gets a :class:`SweepImage`
    and returns a JSON-able dict (its ``"mean"`` is the image's number in ``study.md`` and
    :meth:`Study.values`).  ``needs``: the :class:`MetricOptions` fields it reads.  A taken name
    is an error unless ``replace=True``; the built-in names (``rho``, ``breach``,
    ``inconsistency``) are never replaced.  Choose it with ``sweep(metrics=[..., name])``.
    """
    return SWEEP_METRICS.register(SweepMetric(name, compute, tuple(needs), description), replace=replace)


def unregister_metric(name: str) -> SweepMetric:
    """Remove a metric :func:`register_metric` added in this process; returns it."""
    return SWEEP_METRICS.unregister(name)


def metric_options(metrics: bool | MetricOptions | Iterable[str | SweepMetric], top: int = 0) -> MetricOptions:
    """``sweep(metrics=...)`` as :class:`MetricOptions`, resolved for workers and ranking at least
    ``top`` components: ``True`` (the built-in metrics), ``False`` (none: health and ranking
    only), a :class:`MetricOptions`, or the metrics' names (``["rho", "mine"]``).
    """
    if metrics is True:
        options = MetricOptions()
    elif metrics is False:
        options = MetricOptions(rho=False, breach=False, inconsistency=False)
    elif isinstance(metrics, MetricOptions):
        options = metrics
    elif isinstance(metrics, Iterable) and not isinstance(metrics, (str, bytes)):
        chosen = list(metrics)
        names = {m.name if isinstance(m, SweepMetric) else m for m in chosen}
        builtin = {name: name in names for name in SWEEP_METRICS.builtin}
        options = MetricOptions(**builtin, extra=tuple(
            m for m in chosen if (m.name if isinstance(m, SweepMetric) else m) not in builtin))
    else:
        raise ValueError("metrics must be True, False, a MetricOptions or a list of metric names "
                         f"({', '.join(SWEEP_METRICS)})")
    options = options.resolved()  # an unknown name fails here, before a cluster starts
    return dataclasses.replace(options, top=max(options.top, top))
