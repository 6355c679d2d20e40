"""Studies over many images on a Dask cluster: ``prsg_widgets.sweep(...)`` and ``prsg sweep``.

One concept per module:

* :mod:`.tasks` — what a worker runs (plan an image, solve a chunk of subsets into the shared
  cache, measure an image); the model is loaded once per worker process;
* :mod:`.cluster` — which cluster: an embedded ``LocalCluster``, an existing scheduler
  (``tcp://…``: dask-jobqueue, dask-kubernetes), or one worker per GPU (dask-cuda);
* :mod:`.measures` — the per-image metrics by name (:data:`SWEEP_METRICS`, :func:`register_metric`);
* :mod:`.study` — the numbers across images (transferability matrix, spread of health, ρ,
  breach, inconsistency) and their files (``study.json``, ``study.md``, ``study.png``);
* :mod:`.progress` — tqdm in a terminal, a widget in a notebook;
* :mod:`.api` — :func:`sweep`, the public function.

Importing this package does not import Dask (a sweep does).  The package itself is callable, so
``prsg_widgets.sweep(...)`` is :func:`sweep` whichever way it was imported.
"""
from __future__ import annotations

import sys
import types

# ruff: noqa: F401  (the imports below are the package's public names: __all__ is made from them)
from .. import _front_door
from .api import build_spec, parse_seeds, sweep
from .measures import (
    SWEEP_METRICS,
    MetricOptions,
    SweepImage,
    SweepMetric,
    UnknownMetricError,
    register_metric,
    unregister_metric,
)
from .study import Study
from .tasks import ExplainerSpec


def make_client(*args, **kwargs):
    """A Dask client (see :func:`prsg_widgets.sweep.cluster.make_client`)."""
    from .cluster import make_client as _make_client

    return _make_client(*args, **kwargs)


class _CallableModule(types.ModuleType):
    """``prsg_widgets.sweep`` is both this package and the function :func:`sweep`."""

    def __call__(self, *args, **kwargs) -> Study:
        return sweep(*args, **kwargs)


__getattr__, __dir__, __all__ = _front_door.attach(__name__, __file__, also=["make_client"])
sys.modules[__name__].__class__ = _CallableModule
