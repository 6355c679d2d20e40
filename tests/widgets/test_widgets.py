"""Python-side tests of the widgets: trait sync, observers, image serialisation, limits, errors.

They run on the tiny untrained generator of ``conftest.py`` (8×8 images, d = 128) so the solves
take about a second; the real-browser tests are in ``tests/widgets/browser/test_widgets_browser.py``.
"""
from __future__ import annotations

import math
import pathlib
import threading
import time

import numpy as np
import pytest
import torch

pytest.importorskip("anywidget")
pytest.importorskip("ipywidgets")

import traitlets  # noqa: E402
from ipywidgets.widgets.widget import _remove_buffers  # noqa: E402
from tiny_model import make_tiny_module  # noqa: E402

from prsg_widgets import Explainer, metrics, split_generator  # noqa: E402
from prsg_widgets.core.grid import PatchGrid, select_patches  # noqa: E402
from prsg_widgets.core.solver import SolveInterrupted  # noqa: E402
from prsg_widgets.widgets import (  # noqa: E402
    ComponentBrowser,
    Dashboard,
    PatchGridSelector,
    SparsityCurve,
    TransferabilityPairer,
    explore,
)
from prsg_widgets.widgets._images import decode_rgba, float32_bytes, rgba_bytes, signed_rgba_bytes  # noqa: E402
from prsg_widgets.widgets._main_thread import MainThreadCaller  # noqa: E402
from prsg_widgets.widgets.sparsity_curve import display_points  # noqa: E402
from prsg_widgets.widgets.transferability import default_ks  # noqa: E402


@pytest.fixture(scope="module")
def explainer():
    gen = split_generator(make_tiny_module(), "2", sample_codes=(4,), name="tiny")
    ex = Explainer(gen, grid=4, solver="fast", iterations=150, progress=False, baseline_samples=64)
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def solved(explainer):
    """A fully solved explanation of seed 0 over 3 patches (7 components)."""
    return explainer.explain(0, patches=[1, 6, 11]).solve_all()


def wait_until(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def expected_rgba(image, value_range=(-1.0, 1.0)):
    arr = image.detach().cpu().numpy().transpose(1, 2, 0).astype(np.float64)
    u8 = np.clip(np.rint((arr - value_range[0]) / (value_range[1] - value_range[0]) * 255), 0, 255).astype(np.uint8)
    return np.concatenate([u8, np.full(u8.shape[:2] + (1,), 255, np.uint8)], axis=2)


# ---------------------------------------------------------------------------------- images
def test_rgba_bytes_is_exact_for_tensor_and_arrays():
    img = torch.rand(3, 5, 7) * 2 - 1
    data, w, h = rgba_bytes(img)
    assert (w, h) == (7, 5) and len(data) == 7 * 5 * 4
    np.testing.assert_array_equal(decode_rgba(data, w, h), expected_rgba(img))
    # the same picture as an (H, W, C) array, and values exactly on the ends of the range
    hwc = img.numpy().transpose(1, 2, 0)
    assert rgba_bytes(hwc)[0] == data
    ends, _, _ = rgba_bytes(np.array([[-1.0, 1.0]]))
    assert decode_rgba(ends, 2, 1)[0].tolist() == [[0, 0, 0, 255], [255, 255, 255, 255]]
    # uint8 input passes through untouched; grey images get three equal channels
    u8 = np.random.default_rng(0).integers(0, 256, (4, 3, 4), dtype=np.uint8)
    assert rgba_bytes(u8)[0] == u8.tobytes()
    grey, _, _ = rgba_bytes(torch.zeros(1, 2, 2), (0.0, 1.0))
    assert set(grey) == {0, 255}


def test_image_errors_and_signed_images():
    with pytest.raises(ValueError, match="2 or 3 dimensions"):
        rgba_bytes(np.zeros(5))
    with pytest.raises(ValueError, match="channels"):
        rgba_bytes(torch.zeros(2, 4, 4))
    with pytest.raises(ValueError, match="increasing"):
        rgba_bytes(np.zeros((2, 2)), (1.0, 1.0))
    with pytest.raises(ValueError, match="RGBA"):
        decode_rgba(b"\x00" * 5, 2, 2)
    delta = torch.tensor([[[-2.0, 0.0, 2.0]]])
    out = decode_rgba(*signed_rgba_bytes(delta))
    assert out[0, :, 0].tolist() == [0, 128, 255]  # 0 is mid-grey, ±max|Δ| the ends
    assert decode_rgba(*signed_rgba_bytes(torch.zeros(1, 1, 2)))[0, 0, 0] == 128
    assert np.frombuffer(float32_bytes(np.array([1.5, -2.0])), "<f4").tolist() == [1.5, -2.0]


# ---------------------------------------------------------------------------------- selector
def test_selector_syncs_image_grid_and_sends_image_as_binary(explainer):
    sel = PatchGridSelector(explainer, 0, selected=[5, 1, 5])
    sample = explainer.sample(0)
    assert sel.selected == [1, 5]  # sorted, deduplicated
    assert (sel.width, sel.height, sel.grid_size) == (8, 8, 4)
    assert sel.row_edges == explainer.grid.row_edges() and sel.col_edges == explainer.grid.col_edges()
    np.testing.assert_array_equal(decode_rgba(sel.image, 8, 8), expected_rgba(sample.image))
    assert sel.max_patches == explainer.max_patches
    state = sel.get_state()
    _, paths, buffers = _remove_buffers(state)
    assert ["image"] in paths  # travels as a binary buffer, not JSON/base64
    assert bytes(buffers[paths.index(["image"])]) == sel.image
    assert state["selected"] == [1, 5]


def test_selector_observers_limits_and_errors(explainer):
    sel = PatchGridSelector(explainer, 0, max_patches=3)
    seen = []
    sel.observe(lambda ch: seen.append(ch["new"]), names="selected")
    sel.selected = [3, 0]
    assert seen == [[0, 3]]
    with pytest.raises(traitlets.TraitError, match="out of range.*0..15"):
        sel.selected = [16]
    with pytest.raises(traitlets.TraitError, match="limit is 3"):
        sel.selected = [0, 1, 2, 3]
    assert sel.selected == [0, 3] and seen == [[0, 3]]
    with pytest.raises(traitlets.TraitError, match="more than the new limit"):
        sel.max_patches = 1
    with pytest.raises(traitlets.TraitError):
        sel.max_patches = 0
    sel.allowed = [0, 3, 4]
    with pytest.raises(traitlets.TraitError, match="cannot be selected"):
        sel.selected = [5]
    with pytest.raises(ValueError, match="explainer"):
        PatchGridSelector()


def test_selector_auto_picks_foreground_and_messages(explainer):
    sel = PatchGridSelector(explainer, 2, auto_n=3)
    sample = explainer.sample(2)
    expected = select_patches(explainer.grid, 3, "foreground", image=sample.image,
                              reference=explainer.baseline_image)
    sel._on_custom_msg(sel, {"type": "auto"}, [])  # what the "auto" button sends
    assert sel.selected == expected == explainer.explain(sample, patches="foreground", n=3).patches
    assert "foreground" in sel.message
    sel._on_custom_msg(sel, {"type": "clear"}, [])
    assert sel.selected == [] and sel.message == ""
    sel.max_patches = 2
    with pytest.raises(ValueError, match="exceed the limit"):
        sel.auto()
    assert "limit" in sel.message and sel.selected == []


def test_selector_raw_image_mode_and_new_samples(explainer):
    img = np.random.default_rng(1).random((12, 12, 3))
    sel = PatchGridSelector(image=img, grid=3, value_range=(0, 1), selected=[8])
    assert (sel.width, sel.height, sel.grid_size) == (12, 12, 3) and sel.selected == [8]
    assert sel.row_edges == [0, 4, 8, 12]
    with pytest.raises(ValueError, match="reference image"):
        sel.auto()
    assert "reference" in sel.message
    with pytest.raises(ValueError, match="explainer"):
        sel.set_sample(1)
    sel.set_image(np.zeros((6, 6, 3)), grid=PatchGrid(6, 6, 2))  # ids beyond the new grid are dropped
    assert sel.grid_size == 2 and sel.selected == []
    with pytest.raises(ValueError, match="grid is for"):
        sel.set_image(np.zeros((6, 6, 3)), grid=PatchGrid(8, 8, 2))
    bound = PatchGridSelector(explainer, 0, selected=[2])
    before = bound.image
    bound.set_sample(3)
    assert bound.image != before and bound.sample.seed == 3 and bound.selected == [2]


# ---------------------------------------------------------------------------------- browser
def test_browser_lists_components_sorted_and_filters(solved):
    b = ComponentBrowser(solved, solve=False)
    comps = solved.components()
    assert b.listed == [c.subset for c in comps]
    assert b.progress.value == b.progress.max == 8
    items = b.gallery.items
    assert all(it["status"] == "ready" for it in items)
    assert [it["norm"] for it in items] == pytest.approx([c.norm for c in comps])
    # thumbnails: one RGBA image each, in one binary buffer, exactly the regional patterns
    assert len(b.gallery.thumbs) == len(items) * 8 * 8 * 4
    first = solved.regional_pattern(comps[0].subset)
    np.testing.assert_array_equal(decode_rgba(b.gallery.thumbs[:256], 8, 8),
                                  decode_rgba(*signed_rgba_bytes(first)))
    seen = []
    b.observe(lambda ch: seen.append(ch["new"]), names="listed")
    b.order_buttons.value = 1  # the order filter control
    assert b.filter_order == 1 and b.gallery.filter_order == 1
    assert b.listed == [c.subset for c in solved.components(order=1)]
    b.filter_order = 0
    b.gallery.filter_patch = 6  # what a click on patch 6 in the view sends
    assert b.filter_patch == 6
    assert b.listed == [c.subset for c in solved.components(covering=[6])]
    assert len(seen) == 3
    b.filter_order = 2
    assert b.listed == [c.subset for c in solved.components(covering=[6], order=2)]
    b.max_thumbs = 2
    b.filter_order, b.filter_patch = 0, -1
    assert len(b.listed) == 2 and b.gallery.hidden == 5
    lazy = ComponentBrowser(solved, solve=False, max_thumbs=3)
    assert sorted(lazy._thumbs) == sorted(lazy.listed)  # only the shown patterns are rendered


def test_browser_detail_uses_the_metrics(solved):
    b = ComponentBrowser(solved, solve=False)
    s = b.listed[1]
    b.gallery.selected_subset = s  # a thumbnail click
    d = b.gallery.detail
    assert b.selected_subset == s and d["subset"] == s and d["rank"] == 2
    assert d["norm"] == pytest.approx(float(solved.component(s).norm()))
    assert d["rho"] == pytest.approx(metrics.real_action_field_ratio(solved, s))
    assert d["rho_chance"] == pytest.approx(float(metrics.action_field_area(solved, [s])[0]))
    curve = np.sort(np.abs(solved.component(s).numpy().astype(np.float64)))[::-1]
    assert d["salient_fraction"] == pytest.approx(metrics.sparsity_stats(curve)["salient_fraction"])
    assert len(b.gallery.detail_image) == 256
    b.selected_subset = -1
    assert b.gallery.detail == {}


def test_browser_reconstruction_slider_and_target(solved):
    b = ComponentBrowser(solved, solve=False, target=[6])
    ref = metrics.controllable_reconstruction(solved, [6])
    assert b.k_slider.max == len(ref.subsets) == 4 and b.k == 4 and not b.k_slider.disabled
    assert b.rmse == pytest.approx(ref.rmse[4])
    b.k_slider.value = 1  # the slider control
    assert b.k == 1 and b.recon_view.step == 1
    assert b.rmse == pytest.approx(ref.rmse[1])
    np.testing.assert_array_equal(decode_rgba(b.recon_view.recon, 8, 8), expected_rgba(ref.images[1]))
    assert b.recon_view.rmse == pytest.approx(list(ref.rmse))
    b.recon_view.target = [1, 11]  # clicks in the view
    ref2 = metrics.controllable_reconstruction(solved, [1, 11])
    assert b.target == [1, 11] and b.k_slider.max == len(ref2.subsets) == 6
    assert b.rmse == pytest.approx(ref2.rmse[b.k])
    with pytest.raises(traitlets.TraitError, match="not among the explained patches"):
        b.target = [0]
    b.target = []
    assert b.k_slider.disabled and "target" in b.recon_view.status


def test_browser_shows_pending_then_fills_in(explainer):
    e = explainer.explain(1, patches=[0, 5, 10])
    b = ComponentBrowser(e, solve=False)
    assert b.gallery.thumbs == b"" and len(b.listed) == 7
    assert all(it["status"] == "pending" for it in b.gallery.items)
    assert b.k_slider.disabled and b.recon_view.status.startswith("not being solved")  # solve=False: nothing runs
    b.solve = True
    b.show(e)  # queues the solve; results land through on_update
    assert b.future is not None
    b.future.result(timeout=120)
    wait_until(lambda: b.reconstruction is not None and b.progress.value == 8)
    assert all(it["status"] == "ready" for it in b.gallery.items)
    assert b.listed == [c.subset for c in e.components()]
    assert all(e.component_ready(s) for s in b.listed)


def test_browser_switches_explanations(solved, explainer):
    b = ComponentBrowser(solved, solve=False)
    other = explainer.explain(0, patches=[1, 6])
    b.show(other)
    assert b._listener not in solved._record.listeners and b._listener in other._record.listeners
    assert b.order_buttons.options == (("all", 0), ("1", 1), ("2", 2))
    assert b.target == [1] and b.gallery.patches == [1, 6]


# ---------------------------------------------------------------------------------- sparsity
def test_sparsity_curve_series_and_dense_control(solved):
    c = SparsityCurve(solved, solve=False, max_points=100)
    assert c.control is not None and c.control.patches == solved.patches
    series = c.plot.series
    assert [s["label"] for s in series] == ["seed 0", "dense control"]
    assert series[0]["status"] == "complete" and series[1]["status"] == "partial"
    assert series[1]["dashed"] and series[1]["elements"] == 0
    curve = metrics.sparsity_curve(solved)
    np.testing.assert_array_equal(c.curves["seed 0"], curve)
    data = np.frombuffer(c.plot.data, "<f4")
    n = series[0]["count"]
    zeros = int((curve == 0).sum())
    assert series[0]["zeros"] == zeros  # exact zeros are counted, not drawn on the log axis
    ranks, values = display_points(curve[: curve.size - zeros], 100)
    np.testing.assert_allclose(data[:n], ranks)
    np.testing.assert_allclose(data[n:2 * n], values.astype(np.float32))
    _, paths, _ = _remove_buffers(c.plot.get_state())
    assert ["data"] in paths
    c.control.solve_all()
    c.refresh()
    assert c.plot.series[1]["status"] == "complete"
    np.testing.assert_array_equal(c.curves["dense control"], metrics.sparsity_curve(c.control))
    c.plot.hover = {"label": "seed 0", "rank": 3, "value": 0.5}  # as the view reports it
    assert c.hover["rank"] == 3


def test_sparsity_curve_updates_as_results_land_and_errors(explainer, solved):
    e = explainer.explain(2, patches=[3, 4])
    c = SparsityCurve([e], labels=["two patches"], dense_control=False)
    for f in c.futures:
        f.result(timeout=120)
    wait_until(lambda: c.plot.series[0]["status"] == "complete")
    assert c.plot.series[0]["components"] == 3 and c.progress.value == c.progress.max
    with pytest.raises(ValueError, match="labels"):
        c.show([e, solved], labels=["one"])
    with pytest.raises(ValueError, match="distinct"):
        c.show([e, solved], labels=["x", "x"])
    with pytest.raises(ValueError, match="at least one"):
        c.show([])
    twin = explainer.explain(0, patches=[1, 6])  # same sample as `solved`: labels made distinct
    c.solve = False
    c.show([solved, twin])
    assert c.labels == ["seed 0 N=[1, 6, 11]", "seed 0 N=[1, 6]"]


def test_display_points_keep_head_and_tail():
    curve = np.sort(np.random.default_rng(0).random(10_000))[::-1]
    ranks, values = display_points(curve, 200)
    assert ranks[0] == 1 and ranks[-1] == 10_000 and len(ranks) <= 200
    assert values[0] == curve[0] and values[-1] == curve[-1]
    assert display_points(curve[:5], 200)[0].tolist() == [1, 2, 3, 4, 5]


# ---------------------------------------------------------------------------------- pairer
def test_pairer_ratio_sliders_and_seed(solved, explainer):
    p = TransferabilityPairer(solved, seed_b=3)
    for f in p.futures:
        f.result(timeout=120)
    wait_until(lambda: p.result is not None)
    assert (p.k_a, p.k_b) == (2, 4)  # a third and two thirds of 2^3 − 1 components
    ref = metrics.transferability(solved, p.explanation_b, 2, 4)
    assert p.ratio == pytest.approx(ref.ratio) and p.view.ratio == pytest.approx(ref.ratio)
    assert p.explanation_b.patches == solved.patches and p.explanation_b.sample.seed == 3
    p.ka_slider.value = 3
    p.kb_slider.value = 3
    ref = metrics.transferability(solved, p.explanation_b, 3, 3)
    assert p.result.k_a == 3 and p.ratio == pytest.approx(ref.ratio)
    p.ka_slider.value = 2
    ref = metrics.transferability(solved, p.explanation_b, 2, 3)
    assert p.result.k_a == 2 and p.ratio == pytest.approx(ref.ratio)
    assert p.view.matched == [sorted(s) for s in ref.matched]
    assert p.view.top_a == [sorted(s) for s in ref.top_a]
    with pytest.raises(traitlets.TraitError, match="at least 1"):
        p.k_a = 0
    p.k_b = 50
    assert p.k_b == 7
    seen = []
    p.observe(lambda ch: seen.append(ch["new"]), names="ratio")
    before = p.view.image_b
    p.seed_box.value = 5  # the seed control
    assert p.seed_b == 5 and p.explanation_b.sample.seed == 5 and p.view.image_b != before
    assert p.ratio is None or p.explanation_b.is_complete
    for f in p.futures:
        f.result(timeout=120)
    wait_until(lambda: p.result is not None)
    assert p.ratio == pytest.approx(metrics.transferability(solved, p.explanation_b, 2, 7).ratio)
    assert seen[-1] == p.ratio
    with pytest.raises(traitlets.TraitError, match="non-negative"):
        p.seed_b = -1


def test_pairer_from_explainer_and_errors(explainer, solved):
    assert default_ks(511) == (20, 100) and default_ks(15) == (5, 10) and default_ks(1) == (1, 1)
    p = TransferabilityPairer(explainer, seed_a=0, patches=[1, 6, 11], seed_b=2, k_a=20, k_b=100,
                              solve=False)
    assert (p.k_a, p.k_b) == (7, 7)  # cut to 2^3 − 1, as metrics.transferability does
    assert p.patches == [1, 6, 11] and p.result is None and p.view.ratio == -1
    assert "solving" in p.view.status
    with pytest.raises(ValueError, match="differ"):
        TransferabilityPairer(solved, patches=[0, 1, 2])


# ---------------------------------------------------------------------------------- dashboard
def test_explore_builds_the_dashboard(explainer):
    d = explore(explainer=explainer, seed=1, n=3, solve=False)
    assert isinstance(d, Dashboard)
    assert isinstance(d.selector, PatchGridSelector) and isinstance(d.browser, ComponentBrowser)
    assert isinstance(d.curve, SparsityCurve) and isinstance(d.pairer, TransferabilityPairer)
    assert len(d.selector.selected) == 3
    assert d.explanation.patches == d.selector.selected
    assert d.pairer.explanation_a is d.explanation and d.pairer.seed_b == 2
    d.selector.selected = [0, 15]
    e = d.explain()
    assert e.patches == [0, 15] and d.browser.explanation is e and d.curve.explanations == [e]
    assert d.pairer.explanation_b.patches == [0, 15]
    d.seed_box.value = 4
    assert d.selector.sample.seed == 4 and len(d.selector.selected) == 3
    d.selector.clear()
    with pytest.raises(ValueError, match="at least one patch"):
        d.explain()


# ---------------------------------------------------------------------------------- view protocol
def test_every_view_takes_explanations_through_show(explainer, solved):
    from prsg_widgets.widgets import ExplanationView

    other = explainer.explain(2, patches=[1, 6, 11])
    b = ComponentBrowser(solved, solve=False)
    c = SparsityCurve(solved, solve=False, dense_control=False)
    p = TransferabilityPairer(solved, seed_b=1, solve=False)
    views: list[ExplanationView] = [b, c, p]
    for view in views:
        view.show(other)  # one explanation, or a sequence of them
        assert view.shows[0] == "tiny · seed 2 · N = {1, 6, 11}", type(view).__name__
        view.show([solved])
        assert view.shows[0] == "tiny · seed 0 · N = {1, 6, 11}", type(view).__name__
        with pytest.raises(ValueError, match=rf"{type(view).__name__}.show needs at least one explanation"):
            view.show([])
    for view in (b, p):  # single-image views say so
        with pytest.raises(ValueError, match="takes one explanation, got 2"):
            view.show([solved, other])
    c.show([solved, other], labels=["a", "b"])
    assert c.labels == ["a", "b"]
    b.show(solved, target=[6])
    assert b.target == [6]
    p.show(other, seed_b=3)
    assert p.seed_b == 3 and p.explanation_b.sample.seed == 3
    for old in ("set_explanation", "set_explanations", "set_explanation_a"):  # one name, not three
        assert not any(hasattr(v, old) for v in views), old


def test_dashboard_explain_feeds_every_view_through_show(explainer, monkeypatch):
    d = explore(explainer=explainer, seed=1, n=3, solve=False)
    calls = []
    for view in d.views:
        monkeypatch.setattr(view, "show", lambda e, *, _v=view, _show=view.show, **kw: (calls.append(
            (type(_v).__name__, e, kw)), _show(e, **kw))[1])
    e = d.explain()
    assert [(name, shown) for name, shown, _ in calls] == [
        ("ComponentBrowser", e), ("SparsityCurve", e), ("TransferabilityPairer", e)]
    assert calls[2][2] == {"seed_b": 2}  # image b follows image a


def test_views_compute_only_on_real_explanations(solved):
    from types import SimpleNamespace

    from prsg_widgets.widgets._protocol import as_explanation, explainer_of

    assert as_explanation(solved) is solved and explainer_of(solved) is solved.explainer
    fake = SimpleNamespace(require_explainer=lambda: object())
    with pytest.raises(TypeError, match="Explanation, got SimpleNamespace"):
        as_explanation(fake)
    with pytest.raises(TypeError, match="Explainer, got object"):
        explainer_of(fake)


# ---------------------------------------------------------------------------------- threads
def test_main_thread_caller_coalesces_worker_calls(monkeypatch):
    calls, scheduled = [], []

    class FakeLoop:
        def add_callback(self, fn):
            scheduled.append(fn)

    import prsg_widgets.widgets._main_thread as main_thread

    monkeypatch.setattr(main_thread, "kernel_loop", lambda: FakeLoop())
    caller = MainThreadCaller(lambda: calls.append(threading.current_thread()))
    workers = [threading.Thread(target=caller) for _ in range(5)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert len(scheduled) == 1 and calls == []  # one refresh queued for the main thread
    scheduled[0]()
    assert calls == [threading.main_thread()]
    caller()  # on the main thread: runs at once
    assert len(calls) == 2


def test_solve_failures_and_refresh_errors_are_shown(explainer, solved, monkeypatch, caplog):
    import concurrent.futures as cf

    e = explainer.explain(3, patches=[2, 7])
    b = ComponentBrowser(e, solve=False)
    failed = cf.Future()
    failed.set_exception(RuntimeError("interrupted: 1 of 4 minimal features are kept"))
    b.future = failed  # a solve that failed: its message, no exception class name
    b.refresh()
    assert "solve failed: interrupted" in b.status.value and isinstance(b.error, RuntimeError)
    assert "RuntimeError" not in b.status.value and b.cancel_button.description == "Resume"
    from prsg_widgets.core.solver import SolveInterrupted
    stopped = cf.Future()
    stopped.set_exception(SolveInterrupted("cancelled before it started; finished subsets are kept"))
    b.future = stopped  # what Cancel leaves behind: said in words
    b.refresh()
    assert "stopped — 1/4 minimal features kept; Resume continues" in b.status.value
    assert "Interrupted" not in b.status.value and "before it started" not in b.status.value

    c = SparsityCurve(solved, solve=False, dense_control=False)

    def boom(_e):
        raise ValueError("no curve today")

    monkeypatch.setattr(metrics, "sparsity_curve", boom)
    c.curves.clear()
    with caplog.at_level("ERROR", logger="prsg_widgets"):
        c.refresh()  # shown in the widget and logged with its traceback, not raised
    assert "no curve today" in c.status.value and isinstance(c.error, ValueError)
    assert any("SparsityCurve refresh failed" in r.message for r in caplog.records)


# ---------------------------------------------------------------------------------- ES modules
def _view_classes():
    from prsg_widgets.widgets import ComponentGallery, PairView, PictureRow, ReconstructionView, SparsityPlot
    from prsg_widgets.widgets._export import Downloader

    return (PatchGridSelector, ComponentGallery, ReconstructionView, SparsityPlot, PairView, PictureRow, Downloader)


def test_each_view_is_one_python_file_beside_one_es_module():
    import base64
    import inspect
    import re

    from prsg_widgets.widgets._view_modules import STATIC, ViewModule, imports_of, module_graph, resolved

    common = (STATIC / "common.js").read_text(encoding="utf-8")
    exported = set(re.findall(r"^export (?:function|const|let) (\w+)", common, re.M))
    assert {"bytesOf", "floatsOf", "drawScaled", "fillOverlay", "strokePatches", "exportButton"} <= exported
    # nothing but the module's private counter is declared without being exported
    assert set(re.findall(r"^(?:function|const|let|class) (\w+)", common, re.M)) == {"infoCount"}
    for cls in _view_classes():
        module = cls._esm
        assert isinstance(module, ViewModule), cls.__name__
        py = pathlib.Path(inspect.getfile(cls)).stem.lstrip("_")
        assert module.name in (f"{py}.js", "downloader.js"), (cls.__name__, module.name)
        own = (STATIC / module.name).read_text(encoding="utf-8")
        assert own.count("export default") == 1
        # the view declares none of the helpers it imports, and imports only what exists
        names = set(re.findall(r"^(?:function|const|let|class) (\w+)", own, re.M))
        assert not names & exported, (cls.__name__, names & exported)
        for block in re.findall(r"import \{([^}]*)\} from \"\./common\.js\"", own):
            assert {n.strip() for n in block.split(",") if n.strip()} <= exported, cls.__name__
        # what anywidget sends loads from a string: no relative specifier is left, each import
        # is the data: URL of the file it names (its own imports resolved the same way)
        sent = str(module)
        assert not re.search(r'(\bfrom\s*|^import\s*)"\./', sent, re.M) and sent.count("export default") == 1
        urls = re.findall(r'"data:text/javascript;base64,([A-Za-z0-9+/=]+)"', sent)
        assert len(urls) == len(imports_of(own)), cls.__name__
        for name, url in zip(imports_of(own), urls, strict=True):
            assert base64.b64decode(url).decode("utf-8") == resolved(name), (cls.__name__, name)
        graph = module_graph(module.name)
        assert set(graph) == {module.name, *imports_of(own), *(["constants.js"] if "common.js" in graph else [])}


def test_the_views_share_one_instance_of_each_helper_module():
    import re

    from prsg_widgets.widgets import ComponentGallery, SparsityPlot

    urls = [set(re.findall(r'"(data:text/javascript;base64,[^"]+)"', str(cls._esm)))
            for cls in (PatchGridSelector, ComponentGallery, SparsityPlot)]
    # common.js is one URL in every view (the browser keeps one module per URL: one key handler,
    # one a11y scope registry for the page)
    assert len(urls[0] & urls[1] & urls[2]) == 1


def test_every_trait_a_view_reads_is_typed_in_its_model(explainer):
    import re

    from prsg_widgets.widgets._view_modules import STATIC

    common = (STATIC / "common.js").read_text(encoding="utf-8")
    shared = set(re.findall(r"@property \{[^}]*\} (\w+)", common))
    assert shared == {"grid_size", "row_edges", "col_edges", "caption", "export_stem"}
    for cls in _view_classes():
        own = (STATIC / cls._esm.name).read_text(encoding="utf-8")
        assert "@typedef" in own and 'import("anywidget/types").Render<Model>' in own, cls.__name__
        typed = set(re.findall(r"@property \{[^}]*\} (\w+)", own))
        if "GridModel" in own or "ExportModel" in own:  # the helpers' traits (common.js typedefs)
            typed |= shared
        read = set(re.findall(r'model\.(?:get|set)\("(\w+)"\s*[),]', own))
        assert read and read <= typed, (cls.__name__, read - typed)
        mine = set(re.findall(r"@property \{[^}]*\} (\w+)", own))  # every typed trait is one Python syncs
        assert mine <= set(cls.class_traits(sync=True)), (cls.__name__, mine - set(cls.class_traits(sync=True)))


def test_an_edited_helper_reloads_the_views_that_import_it(tmp_path, monkeypatch):
    """Hot reload (ANYWIDGET_HMR=1 with watchfiles): an edit of an imported file re-sends the
    view's module, resolved again.
    """
    import base64
    import sys
    import types

    import prsg_widgets.widgets._view_modules as vm

    (tmp_path / "view.js").write_text('import { x } from "./helper.js";\nexport default { render() { x(); } };\n')
    (tmp_path / "helper.js").write_text("export function x() { return 1; }\n")
    monkeypatch.setattr(vm, "STATIC", tmp_path)
    module = vm.ViewModule("view.js")
    before = str(module)
    assert "return 1" in base64.b64decode(before.split("base64,")[1].split('"')[0]).decode()
    (tmp_path / "helper.js").write_text("export function x() { return 2; }\n")
    fake = types.ModuleType("watchfiles")
    fake.watch = lambda path, stop_event=None: iter([{(2, str(path / "helper.js"))}])
    monkeypatch.setitem(sys.modules, "watchfiles", fake)
    sent = []
    module.changed.connect(sent.append)
    assert len(list(module.watch())) == 1
    assert sent and sent[0] == str(module) != before
    assert "return 2" in base64.b64decode(sent[0].split("base64,")[1].split('"')[0]).decode()
    (tmp_path / "loop.js").write_text('import "./loop.js";\n')
    with pytest.raises(ValueError, match="circle"):
        vm.resolved("loop.js")
    (tmp_path / "lost.js").write_text('import { y } from "./missing.js";\n')
    with pytest.raises(FileNotFoundError, match="missing.js"):
        vm.resolved("lost.js")


# ---------------------------------------------------------------------------------- health
def test_browser_header_shows_health_and_warns_when_unhealthy(explainer, solved):
    b = ComponentBrowser(solved, solve=False)
    h = solved.health()
    assert b.health["cancellation"] == pytest.approx(h.cancellation)
    assert "every patch within ε" in b.health_box.value and "independent" in b.health_box.value
    assert ("⚠" in b.health_box.value) == bool(h.warnings())
    # a solve far too short to regenerate its patches is flagged
    old = Explainer(explainer.generator, grid=4, solver="fast", iterations=4, epsilon=1e-6, restart=False,
                    progress=False, baseline_samples=64)
    bad = old.explain(0, patches=[1, 6, 11]).solve_all()
    b.show(bad)
    assert b.health["feasible_share"] < 1.0
    assert "⚠" in b.health_box.value and "do not regenerate their patches" in b.health_box.value
    old.close()


def test_dashboard_labels_nested_mode_resolves_independently_and_goes_back(explainer):
    nested = Explainer(explainer.generator, grid=4, solver="interactive", iterations=150, progress=False,
                       baseline_samples=64)
    d = explore(explainer=nested, seed=1, n=3, solve=False, confirm_above=4)
    assert "nested" in d.mode.value and d.independent_button.layout.display is None
    assert d.nested_button.layout.display == "none"
    # nested: the sparsity view solves no dense control and says why
    assert d.curve.control is None and d.curve.control_void and "No dense control" in d.curve.note.value
    first = d.explanation
    first.solve_all()
    # 8 minimal features > confirm_above = 4: the estimate and a confirm first, nothing switched yet
    assert d.resolve_independently() is None and d.confirm_box.layout.display is None
    assert "re-solve independently" in d.confirm_text.value and d.explainer is nested
    d.confirm_button.click()
    e = d.explanation
    assert not d.explainer.config.nested and e.explainer is d.explainer and e is not first
    assert d.browser.explanation is e and e.patches == d.selector.selected
    assert "independent" in d.mode.value and d.independent_button.layout.display == "none"
    assert d.nested_button.layout.display is None
    # independent: the dense control comes from the independent solve
    assert d.curve.control is not None and not d.curve.control.explainer.config.nested
    # the way back: the nested result, kept in memory (nothing to solve again)
    d.nested_button.click()
    assert d.explainer is nested and d.explanation.is_complete and d.explanation.key == first.key
    assert d.independent_button.layout.display is None
    twin = d._solvers[False]
    nested.close()
    twin.close()


def test_dashboard_cancel_stops_every_view_and_resume_resumes_each(explainer):
    slow = Explainer(explainer.generator, grid=4, solver="fast", iterations=3000, lr=1e-7, restart=False,
                     progress=False, baseline_samples=64)
    try:
        d = explore(explainer=slow, seed=1, n=2)
        assert d.browser.line is d.line and d.curve.line is d.line and d.pairer.line is d.line
        assert [v.own_line.layout.display for v in d.views] == ["none"] * 3  # one line, not three
        wait_until(lambda: slow.solver_steps > 3)
        assert d.line.button.description == "Cancel" and d.line.solving()
        d.line.button.click()
        wait_until(lambda: not d.line.solving())
        for v in d.views:
            v.refresh()
        assert set(d.line.stopped) == set(d.views)  # every view that was solving
        assert "stopped —" in d.line.status.value and d.line.button.description == "Resume"
        for v in d.views:  # no view claims its solve was 'cancelled before it started'
            assert v.error is not None and "before it started" not in d.line.status.value
        d.line.button.click()  # Resume: every view it stopped is queued again
        assert all(v.futures and v._solving() for v in d.views if not all(e.is_complete for e in v._watched))
        assert d.line.stopped == [] and d.line.button.description == "Cancel"
        slow.cancel()
    finally:
        slow.close()


def test_browser_shows_minimal_features_as_they_land_then_components(explainer):
    """Issue 15.3: before any component is computable the gallery shows the solved minimal
    features as images g(f_T); they go once every component is there.
    """
    e = explainer.explain(11, patches=[0, 5, 10])
    b = ComponentBrowser(e, solve=False)
    assert b.gallery.drafts == []  # only f_∅ = b: nothing to show yet
    e.minimal_feature([0])
    e.minimal_feature([5])
    b.refresh()
    assert [d["subset"] for d in b.gallery.drafts] == [1, 2]
    w, h = b.gallery.width, b.gallery.height
    assert len(b.gallery.draft_thumbs) == 2 * w * h * 4
    want = rgba_bytes(e.render(e.minimal_feature([5]).unsqueeze(0))[0])[0]
    assert b.gallery.draft_thumbs[w * h * 4:] == want
    assert all(it["status"] == "pending" for it in b.gallery.items)
    e.solve_all()
    b.refresh()
    assert b.gallery.drafts == [] and b.gallery.draft_thumbs == b""


def test_detail_follows_the_filters_and_removes_a_component(solved):
    b = ComponentBrowser(solved, solve=False)
    top = b.listed[0]
    b.selected_subset = top
    assert b.gallery.detail["subset"] == top and b.gallery.detail_with and b.gallery.detail_without
    keep = torch.ones(solved.num_subsets, dtype=torch.bool)
    keep[top] = False
    without = solved.render(solved.reconstruct(keep)[solved.full].unsqueeze(0))[0]
    assert b.gallery.detail_without == rgba_bytes(without)[0]
    assert b.gallery.detail_with == rgba_bytes(solved.render(solved.minimal_feature(solved.full).unsqueeze(0))[0])[0]
    # a filter that excludes the selected component clears the detail panel
    other = [p for p in solved.patches if p not in solved.subset_patches(top)]
    if other:
        b.filter_patch = other[0]
        assert top not in b.listed and b.selected_subset == -1 and b.gallery.detail == {}


# ---------------------------------------------------------------------------------- issue 9
def test_new_explanation_resets_dependent_state_and_every_view_says_what_it_shows(solved, explainer):
    b = ComponentBrowser(solved, solve=False, target=[6])
    b.k = 1
    b.selected_subset = b.listed[0]
    assert b.reconstruction is not None and b.recon_view.rmse and b.detail
    assert b.shows == ["tiny · seed 0 · N = {1, 6, 11}"] and "seed 0" in b.identity.value
    other = explainer.explain(2, patches=[0, 5])  # unsolved: nothing of `solved` may remain
    b.show(other)
    assert b.reconstruction is None and b.recon_view.rmse == [] and b.recon_view.steps == 0
    assert b.recon_view.recon == b"" and b.k_slider.disabled and math.isnan(b.rmse)
    assert b.detail == {} and b.gallery.detail == {} and "cancellation" not in b.health_box.value
    assert b.shows == ["tiny · seed 2 · N = {0, 5}"] and b.gallery.caption == b.shows[0]
    c = SparsityCurve(solved, solve=False)
    assert c.shows == ["tiny · seed 0 · N = {1, 6, 11}"] and c.plot.log_x is True  # log-rank axis by default
    p = TransferabilityPairer(solved, seed_b=1, solve=False)
    assert p.shows == ["tiny · seed 0 · N = {1, 6, 11}", "tiny · seed 1 · N = {1, 6, 11}"]
    p.show(other)
    assert p.view.ratio == -1.0 and p.view.top_a == [] and p.ratio is None
    assert p.shows[0] == "tiny · seed 2 · N = {0, 5}"


def test_target_click_keeps_the_chosen_k(solved):
    b = ComponentBrowser(solved, solve=False, target=[6])
    assert b.k == b.k_slider.max == 4  # starts full
    b.k_slider.value = 2
    b.recon_view.target = [1, 6]  # a click on another patch of x
    assert b.k == 2 and b.recon_view.step == 2 and b.k_slider.max == 6
    b.k = b.k_slider.max  # full stays full when the target grows
    b.recon_view.target = [1, 6, 11]
    assert b.k == b.k_slider.max == 7


def test_dashboard_stale_marks_explain_after_clear_estimate_and_confirm(explainer):
    d = explore(explainer=explainer, seed=1, n=3, solve=False, confirm_above=8)
    views = (d.browser, d.curve, d.pairer)
    assert not d.stale and not any(v.stale for v in views)
    d.seed_box.value = 3  # another sample: every view still shows seed 1 and says so
    assert d.stale and all(v.stale and "stale" in v.identity.value for v in views)
    assert all("prsg-stale" in v._dom_classes for v in views)
    d.selector.clear()
    d.explain_button.click()  # no ValueError into the kernel: a message instead
    assert "select at least one patch" in d.selector.message and d.explanation.sample.seed == 1
    d.selector.selected = [0, 5, 10, 15]  # 16 minimal features > confirm_above = 8
    est = d.estimate()
    assert est["minimal_features"] == 16 and est["total"] == 48 and "16 minimal features" in d.estimate_note.value
    d.explain_button.click()
    assert d.confirm_box.layout.display is None and "48 minimal features" in d.confirm_text.value
    assert d.explanation.sample.seed == 1  # nothing started yet
    d.confirm_button.click()
    assert d.explanation.sample.seed == 3 and d.explanation.patches == [0, 5, 10, 15]
    assert d.confirm_box.layout.display == "none" and not d.stale
    assert not any(v.stale for v in views) and d.browser.shows == ["tiny · seed 3 · N = {0, 5, 10, 15}"]
    assert d.wait(block=False) is None  # never blocks when told so


def test_cancel_and_resume_from_a_view(explainer):
    ex = Explainer(explainer.generator, grid=4, solver="fast", iterations=3000, lr=1e-7, restart=False,
                   progress=False, baseline_samples=64)
    try:
        e = ex.explain(5, patches=[0, 5, 10, 15])
        b = ComponentBrowser(e, solve=True)
        assert b.cancel_button.layout.display is None and b.cancel_button.description == "Cancel"
        wait_until(lambda: ex.solver_steps > 3)
        b.cancel_button.click()
        with pytest.raises(SolveInterrupted):
            b.future.result(timeout=60)
        wait_until(lambda: "stopped —" in b.status.value)
        assert b.cancel_button.description == "Resume" and "Resume" in b.status.value
        assert not e.is_complete
        b.cancel_button.click()  # Resume queues the rest again
        assert b.future is not None and not b.future.done() and b.error is None
        ex.cancel()
    finally:
        ex.close()


def test_progress_text_reports_speed_and_eta(explainer, monkeypatch):
    """The status line's ETA is the progress model's (:func:`~prsg_widgets.backend.progress.eta_for`:
    the rest of the solve replayed with the iterations the solved subsets took, priced at the
    measured seconds per block) and its speed the measured subset-iterations per second.
    """
    from prsg_widgets.backend.progress import eta_for

    # the explainer is shared by this module: a solve an earlier test started may still run (on
    # loaded cores it did), and its batch would enter the estimate
    assert explainer.scheduler.wait_idle(120)
    e = explainer.explain(6, patches=[0, 5])
    e.minimal_feature([0])  # one subset solved: its iterations set the expectation
    b = ComponentBrowser(e, solve=False)
    fake = type("F", (), {"done": lambda self: False})()
    b.futures = [fake]
    monkeypatch.setattr(explainer.scheduler.meter, "rate", lambda min_busy=0.3: 50.0)
    monkeypatch.setattr(explainer.scheduler.meter, "step_cost", lambda unit=1, min_busy=0.3: (lambda k: 0.01))
    left = eta_for(explainer, [e])
    # two subsets left, both ready at once (independent), as many iterations as the solved one took
    assert left == pytest.approx(0.01 * max(1, e.iterations[1]))
    text = b.line.progress_text(*e.progress)
    assert text.startswith("2/4 minimal features") and "50 subset-it/s" in text
    assert b.eta == pytest.approx(left) and "left" in text


def test_save_explanation_button_writes_a_loadable_file(solved, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    b = ComponentBrowser(solved, solve=False)
    b.save_button.click()
    assert b.saved_path == "tiny-seed0-N1-6-11.npz" and (tmp_path / b.saved_path).exists()
    assert "saved" in b.save_note.value
    from prsg_widgets import Explanation
    loaded = Explanation.load(tmp_path / b.saved_path)
    assert loaded.patches == solved.patches


def test_component_repr_is_readable(solved):
    text = repr(solved.components(top=1)[0])
    assert text.startswith("Component(S={") and "norm=" in text and "tensor" not in text


def test_glossary_and_exports_reach_every_view():
    from prsg_widgets.widgets import ComponentGallery, PairView, ReconstructionView, SparsityPlot
    from prsg_widgets.widgets._glossary import GLOSSARY, info_html

    assert "transferability" in GLOSSARY and "prsg-pop" in info_html("dense control")
    from prsg_widgets.widgets._view_modules import STATIC, module_graph

    for cls in (ComponentGallery, ReconstructionView, SparsityPlot, PairView):
        graph = module_graph(cls._esm.name)
        own = graph[cls._esm.name]
        assert "exportButton(root" in own and "export const GLOSSARY = " in graph["constants.js"]
        assert "GLOSSARY[term]" in graph["common.js"]  # the ⓘ of every view reads the one glossary
    for cls in (ComponentGallery, ReconstructionView, PairView):
        assert "infoIcon(" in (STATIC / cls._esm.name).read_text()
    for cls in (ReconstructionView, SparsityPlot, PairView):
        assert "onThemeChange(" in (STATIC / cls._esm.name).read_text()


def test_views_download_their_paper_figure_as_svg(solved, tmp_path, monkeypatch):
    import base64

    monkeypatch.chdir(tmp_path)
    b = ComponentBrowser(solved, solve=False)
    c = SparsityCurve(solved, solve=False, dense_control=False)
    p = TransferabilityPairer(solved, seed_b=1, solve=False)
    p.explanation_b.solve_all()
    p.refresh()
    for view, stem in ((b, "components"), (c, "sparsity"), (p, "transferability")):
        view.svg_button.click()
        both = "_vs_seed1_N1-6-11" if view is p else ""  # the pairer shows two images: both named
        assert view.svg_path == f"{stem}_tiny_seed0_N1-6-11{both}.svg", view.svg_note.value
        payload = view.downloader.payload  # handed to the browser, which downloads it
        assert payload["name"] == view.svg_path and payload["mime"] == "image/svg+xml"
        assert base64.b64decode(payload["data"]).lstrip().startswith(b"<?xml")
        assert "downloaded" in view.svg_note.value
    assert list(tmp_path.iterdir()) == []  # nothing written next to the notebook
    assert b.save_svg(str(tmp_path / "fig.svg")).endswith("fig.svg") and (tmp_path / "fig.svg").exists()
    fresh = ComponentBrowser(solved.explainer.explain(7, patches=[0, 5]), solve=False)
    fresh.svg_button.click()  # nothing ready: a message, no exception
    assert fresh.svg_path is None and "wait for the solve" in fresh.svg_note.value
    b.show(solved)  # another explanation: the old note goes
    assert b.svg_note.value == ""


def test_ticker_updates_only_the_status_line(explainer):
    e = explainer.explain(8, patches=[0, 5])
    b = ComponentBrowser(e, solve=False)
    fake = type("F", (), {"done": lambda self: False})()
    b.futures = [fake]
    items = b.gallery.items
    b._tick()
    assert b.status.value.count("1/4 minimal features") == 1 and b.gallery.items is items


def test_progress_bar_moves_inside_a_batch_and_never_goes_back(explainer, monkeypatch):
    """Issue 9, point 3: the bar counts finished subsets plus the in-flight subsets' share of
    their iteration budget (what ``Explainer.in_flight()`` reports), so it moves during a batch;
    it never goes back, and stays below finished + in flight until the solve is done.
    """
    from prsg_widgets.backend.scheduler import InFlight

    e = explainer.explain(9, patches=[0, 5])  # 4 minimal features; f_∅ = b is solved
    iters = explainer.config.iterations
    flight = [None]
    monkeypatch.setattr(explainer, "in_flight", lambda: flight[0])
    b = ComponentBrowser(e, solve=False)
    running = type("F", (), {"done": lambda self: False})()
    b.futures = [running]
    flight[0] = InFlight("another key", {1: iters // 2}, iters, 0)  # queued behind another solve
    b._tick()
    assert b.progress.value == 1  # nothing of this view's explanation is in the batch
    values = []
    for st in (0, iters // 5, iters // 2, iters - 1, 3 * iters):
        flight[0] = InFlight(e.key, {1: st, 2: st, 3: st}, iters, 0)
        b._tick()
        values.append(b.progress.value)
        assert b.progress.value < 1 + 3  # never the whole batch before it lands
    assert values[0] == 1 and values == sorted(values) and len(set(values)) == len(values) - 1
    assert values[2] == pytest.approx(1 + 3 * 0.5, abs=0.05)
    assert values[-1] == pytest.approx(1 + 3 * 0.95)  # a subset over its budget: capped
    assert "3 in the batch" in b.status.value
    # one subset lands: done goes up by one and the bar does not go back
    e.minimal_feature([0])
    flight[0] = InFlight(e.key, {2: 0, 3: 0}, iters, 0)
    b._tick()
    assert e.progress[0] == 2 and values[-1] <= b.progress.value < 2 + 2
    # nothing running (cancelled): the bar shows what is kept; complete: full
    b.futures = []
    b._tick()
    b.refresh()
    assert b.progress.value == 2
    e.solve_all()
    b.refresh()
    assert b.progress.value == b.progress.max == 4


def test_explainer_reports_what_is_in_flight(explainer):
    """The solver's batch as the scheduler sees it: keys, subsets and their iterations."""
    slow = Explainer(explainer.generator, grid=4, solver="fast", iterations=100000, early_stop=False,
                     progress=False, baseline_samples=64, batch_size=3)
    try:
        e = slow.explain(3, patches=[0, 5, 10])
        assert slow.in_flight() is None
        fut = e.submit()
        deadline = time.monotonic() + 60
        while (slow.in_flight() is None or max(slow.in_flight().steps.values()) < 3) and time.monotonic() < deadline:
            time.sleep(0.02)
        flight = slow.in_flight()
        landed = e.progress[0] - 1  # the solver may settle a subset at once (f_∅ = b is not counted)
        assert flight.key == e.key and len(flight.steps) == 3 and flight.queued == 4 - landed
        assert set(flight.steps) <= set(range(1, 8)) and flight.budget == 100000
        slow.cancel()
        with pytest.raises(SolveInterrupted):
            fut.result(timeout=60)
        assert slow.in_flight() is None
    finally:
        slow.close()
