"""Extension points of a sweep: a model registered in the client's process runs on workers that
never saw the registration (issue 25); per-image metrics are registry entries, a user's own
among them, and the built-in ones give the numbers of the metrics package.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from tiny_model import load_tiny, top_norm

import prsg_widgets as pw
from prsg_widgets import metrics as M
from prsg_widgets.models import MODELS, register_model
from prsg_widgets.sweep import (
    SWEEP_METRICS,
    MetricOptions,
    SweepMetric,
    UnknownMetricError,
    build_spec,
    register_metric,
    unregister_metric,
)
from prsg_widgets.sweep.measures import metric_options
from prsg_widgets.sweep.tasks import image_metrics

TINY = dict(grid=4, preset="tiny", batch_size=8, baseline_samples=16)


@pytest.fixture
def registries(monkeypatch):
    """MODELS and SWEEP_METRICS as they were before the test, restored after it."""
    for reg in (MODELS, SWEEP_METRICS):
        monkeypatch.setattr(reg, "_entries", dict(reg._entries))
        monkeypatch.setattr(reg, "_local", set(reg._local))
    register_model("tiny", load_tiny, "2")
    register_metric("top_norm", top_norm, description="mean norm of the ranked components")


def test_image_metrics_loops_over_the_chosen_registry_entries(registries, tmp_path):
    """The built-in entries give exactly the metrics package's numbers; a registered one runs after them."""
    spec = build_spec("tiny", tmp_path, **TINY)
    ex = pw.Explainer(spec.settings, progress=False)
    expl = ex.explain(0, n=3).solve_all()
    options = metric_options(MetricOptions(top=5, rho_top=4, extra=("top_norm",)))
    got = image_metrics(spec, 0, expl.patches, options)
    assert [k for k in got if k in SWEEP_METRICS] == ["rho", "breach", "inconsistency", "top_norm"]
    ranking = expl.ranking()[:5]
    rho = M.real_action_field_ratios(expl, [s for s, _ in ranking[:4]])
    assert got["rho"]["values"] == pytest.approx([float(v) for v in rho], nan_ok=True)
    breach = [M.boundary_breach(expl, p).breach_ratio for p in expl.patches]
    assert got["breach"]["per_patch"] == pytest.approx(breach, nan_ok=True)
    subsets = [s for s, _ in ranking if s != expl.full][:3]
    assert got["inconsistency"]["subsets"] == subsets
    assert got["inconsistency"]["values"] == pytest.approx(
        [M.inconsistency(expl, s, max_contexts=8, seed=0).mean for s in subsets], nan_ok=True)
    assert got["top_norm"] == {"mean": pytest.approx(np.mean([n for _, n in ranking])), "count": 5}
    only = image_metrics(spec, 0, expl.patches, metric_options(["breach"]))
    assert "breach" in only and not {"rho", "inconsistency", "top_norm"} & set(only)
    ex.close()


def test_flags_names_and_options_choose_the_same_metrics(registries):
    assert [m.name for m in metric_options(True).chosen()] == ["rho", "breach", "inconsistency"]
    assert metric_options(False).chosen() == []
    assert [m.name for m in metric_options(MetricOptions(rho=False)).chosen()] == ["breach", "inconsistency"]
    mine = metric_options(["top_norm", "rho"])
    assert [m.name for m in mine.chosen()] == ["rho", "top_norm"]          # built-in ones first, as before
    assert isinstance(mine.extra[0], SweepMetric)                          # resolved: workers need no registry
    assert metric_options(True, top=40).top == 100 and metric_options(True, top=400).top == 400


def test_metric_registration_errors_are_clear(registries):
    with pytest.raises(ValueError, match="'top_norm' is registered already; pass replace=True"):
        register_metric("top_norm", top_norm)
    register_metric("top_norm", top_norm, needs=["top"], replace=True)
    with pytest.raises(ValueError, match="built-in metric and cannot be replaced"):
        register_metric("rho", top_norm, replace=True)
    with pytest.raises(ValueError, match="not MetricOptions fields"):
        register_metric("other", top_norm, needs=["alpha"])
    for bad in ("top", "my metric", ""):                                   # a summary key; not an identifier
        with pytest.raises(ValueError, match="metric name"):
            register_metric(bad, top_norm)
    with pytest.raises(UnknownMetricError, match=r"did you mean top_norm\? built-in metrics: rho, breach, "
                                                 r"inconsistency; registered metrics: top_norm"):
        metric_options(["top_nrom"])
    with pytest.raises(ValueError, match="name a metric twice"):
        metric_options(MetricOptions(extra=("rho",)))
    with pytest.raises(TypeError, match="returned float, not a dict"):
        SweepMetric("f", lambda image: 1.0)(None)  # type: ignore[arg-type]
    assert unregister_metric("top_norm").name == "top_norm" and "top_norm" not in SWEEP_METRICS


def test_an_unknown_metric_fails_before_a_cluster_starts(registries, tmp_path, monkeypatch):
    from prsg_widgets.sweep import cluster

    monkeypatch.setattr(cluster, "make_client", lambda *a, **k: pytest.fail("a cluster was started"))
    with pytest.raises(UnknownMetricError, match="unknown metric 'nope'"):
        pw.sweep("tiny", seeds=2, n=2, out=tmp_path, metrics=["rho", "nope"], progress=False, **TINY)


distributed = pytest.importorskip("distributed")


def test_a_sweep_ships_registered_models_and_metrics_to_its_workers(registries, tmp_path):
    """One worker process that never imported the test's registrations measures the tiny model."""
    client = pw.sweep.make_client(workers=1)
    try:
        def has_tiny() -> bool:
            from prsg_widgets.models import MODELS

            return "tiny" in MODELS

        assert list(client.run(has_tiny).values()) == [False]        # the worker does not know it
        study = pw.sweep("tiny", seeds=[0, 1], n=3, out=tmp_path, client=client, progress=False,
                         metrics=["breach", "top_norm"], **TINY)
        assert list(client.run(has_tiny).values()) == [True]
    finally:
        client.close()
        client.cluster.close()
    assert study.settings["model"] == "tiny" and [im["seed"] for im in study.images] == [0, 1]
    with pw.Explainer("tiny", cache_dir=tmp_path / "cache", progress=False, **TINY) as ex:
        for im in study.images:
            expl = ex.explain(im["seed"], patches=im["patches"])
            assert expl.is_complete                                  # the workers' solves are in the cache
            norms = [n for _, n in expl.ranking()[: len(im["top"])]]
            assert im["top_norm"]["mean"] == pytest.approx(float(np.mean(norms)), rel=1e-6)
            assert "breach" in im and "rho" not in im
    assert study.values("top_norm") == [im["top_norm"]["mean"] for im in study.images]
    assert "top_norm" in study.per_image_spread() and "| top_norm |" in study.markdown()
    assert all(math.isfinite(v) for v in study.values("top_norm"))


def test_an_explainer_with_a_client_ships_its_registered_model(registries, tmp_path):
    """``Explainer(model, client=...)`` with a model registered only in this process: its solves
    run on a worker that never imported the registration (before, the worker failed to load it).
    """
    client = pw.sweep.make_client(workers=1)
    try:
        with pw.Explainer("tiny", client=client, cache_dir=tmp_path / "cache", progress=False, **TINY) as ex:
            expl = ex.explain(0, n=3)
            remote = expl.component_array()
        assert list(client.run(lambda: "tiny" in __import__("prsg_widgets.models").models.MODELS).values()) == [True]
    finally:
        client.close()
        client.cluster.close()
    with pw.Explainer("tiny", progress=False, **TINY) as ex:
        here = ex.explain(0, n=3).component_array()
    assert expl.is_complete and np.allclose(remote, here, atol=1e-6)
