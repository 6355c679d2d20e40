"""Real-browser tests of the widgets: JupyterLab 4 + headless Chromium (see conftest/harness).

Each test shows a widget in a notebook, performs a real interaction (click, drag, hover, key
press, typing) and asserts its effect on the Python side, then saves a screenshot under
``tests/widgets/browser/artifacts/``.  The model is ``toy-scenes`` on its cheap layer with the
``tiny`` solver preset and few patches, so every solve takes seconds.
"""
from __future__ import annotations

import os
import time

import harness
import pytest

pytest.importorskip("anywidget")

# The kernel shares two cores with the browser and the server: one torch thread keeps it snappy.
SETUP = """
import torch
torch.set_num_threads(1)
from prsg_widgets import Explainer
from prsg_widgets.widgets import (ComponentBrowser, PatchGridSelector, SparsityCurve,
                                  TransferabilityPairer, explore)
ex = Explainer("toy-scenes", grid=4, cheap=True, solver="tiny", progress=False)
"""

SOLVE_TIMEOUT = float(os.environ.get("PRSG_BROWSER_SOLVE_TIMEOUT", "120"))



def _wait_attr(page, selector: str, attr: str, expected: str, timeout: float = 15.0) -> None:
    page.wait_for_function(
        "([sel, attr, want]) => { const n = document.querySelector(sel);"
        " return !!n && n.getAttribute(attr) === want; }",
        arg=[selector, attr, expected], timeout=timeout * 1000,
    )


def _show(lab, code: str, name: str, selector: str):
    """Open a notebook that runs ``SETUP`` then ``code`` (displaying a widget) and wait until the
    view ``selector`` is visible in the output of ``code``: ``(page, output, view)``.
    """
    page = lab.open_notebook([SETUP, code], name=name)
    out = lab.cell_output(page, 1)
    view = out.locator(selector)
    view.first.wait_for(state="visible")
    return page, out, view


def _shot(lab, page, locator, name: str):
    """Screenshot of a whole output: a tall viewport first, as Lab clips what is scrolled away."""
    page.set_viewport_size({"width": 1500, "height": 2400})
    page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
    page.wait_for_timeout(800)
    locator.scroll_into_view_if_needed()
    return lab.screenshot(page, name, locator=locator)


def test_patch_grid_selector_click_drag_limit_auto(lab):
    page, _, root = _show(lab, "sel = PatchGridSelector(ex, 0, max_patches=3, auto_n=2)\nsel",
                          "selector.ipynb", ".prsg-pgs")
    cell = lambda p: root.locator(f".prsg-cell[data-patch='{p}']")  # noqa: E731

    cell(5).click()
    assert lab.wait_for_python(page, "sel.selected", [5]) == [5]

    # drag from patch 0 over patch 1: both toggled on in one gesture
    box0, box1 = cell(0).bounding_box(), cell(1).bounding_box()
    page.mouse.move(box0["x"] + box0["width"] / 2, box0["y"] + box0["height"] / 2)
    page.mouse.down()
    page.mouse.move(box1["x"] + box1["width"] / 2, box1["y"] + box1["height"] / 2, steps=5)
    page.mouse.up()
    lab.wait_for_python(page, "sel.selected", [0, 1, 5])

    # a fourth patch is refused with a visible message
    cell(10).click()
    lab.wait_for_python(page, "sel.message.startswith('limit reached')", True)
    assert lab.eval_python(page, "sel.selected") == [0, 1, 5]
    assert "at most 3" in root.locator(".prsg-msg").inner_text()
    assert root.get_attribute("data-count") == "3"

    # hover shows the patch id
    cell(7).hover()
    assert root.locator(".prsg-tip").inner_text() == "patch 7"
    assert root.get_attribute("data-hover") == "7"

    # click on a selected patch removes it; "auto" picks the foreground patches
    cell(5).click()
    lab.wait_for_python(page, "sel.selected", [0, 1])
    root.locator("button.prsg-auto").click()
    want = lab.eval_python(page, "ex.explain(sel.sample, patches='foreground', n=2).patches")
    lab.wait_for_python(page, "sel.selected", want)
    _wait_attr(page, ".prsg-pgs", "data-selected", ",".join(map(str, want)))

    # Python -> view
    lab.run_code(page, "sel.selected = [15]")
    _wait_attr(page, ".prsg-pgs", "data-selected", "15")
    _shot(lab, page, root, "selector")


def test_component_browser_pending_filters_slider(lab):
    page, out, gallery = _show(lab, "e = ex.explain(0, n=3)\nb = ComponentBrowser(e, solve=False)\nb",
                               "browser.ipynb", ".prsg-cb")
    # nothing solved yet: every component shows as pending
    _wait_attr(page, ".prsg-cb", "data-pending", "7")
    assert gallery.locator(".prsg-thumb.pending").count() == 7

    # solve in the background: the kernel stays responsive and the tiles fill in
    lab.run_code(page, "b.solve = True\nb.show(e)")
    t0 = time.monotonic()
    assert lab.eval_python(page, "1 + 1") == 2
    assert time.monotonic() - t0 < 10
    lab.wait_for_python(page, "b.reconstruction is not None", True, timeout=SOLVE_TIMEOUT)
    _wait_attr(page, ".prsg-cb", "data-pending", "0")
    listed = lab.eval_python(page, "b.listed")
    assert listed == lab.eval_python(page, "[c.subset for c in e.components()]")
    # the header reports the explanation's health once it is solved
    health = out.locator(".prsg-health")
    health.locator("text=every patch within ε").first.wait_for(state="visible")
    assert "cancellation" in health.inner_text() and "independent" in health.inner_text()
    assert lab.eval_python(page, "b.health['cancellation'] == e.health().cancellation") is True
    assert gallery.get_attribute("data-listed") == ",".join(map(str, listed))

    # filter click on a patch: only the components whose action field covers it
    patches = lab.eval_python(page, "e.patches")
    gallery.locator(f".prsg-filter-stage .prsg-cell[data-patch='{patches[1]}']").click()
    lab.wait_for_python(page, "b.filter_patch", patches[1])
    want = lab.eval_python(page, f"[c.subset for c in e.components(covering=[{patches[1]}])]")
    lab.wait_for_python(page, "b.listed", want)
    assert len(want) == 4 and want != listed
    # order filter (an ipywidgets toggle button)
    out.locator(".prsg-order-buttons button", has_text="1").click()
    lab.wait_for_python(page, "b.filter_order", 1)
    lab.wait_for_python(page, "b.listed", lab.eval_python(
        page, f"[c.subset for c in e.components(order=1, covering=[{patches[1]}])]"))

    # thumbnail click: detail panel with norm and rho
    first = lab.eval_python(page, "b.listed[0]")
    gallery.locator(f".prsg-thumb[data-subset='{first}']").click()
    lab.wait_for_python(page, "b.selected_subset", first)
    lab.wait_for_python(page, "b.detail.get('rho') is not None", True)
    assert "ρ(S)" in gallery.locator(".prsg-detail").inner_text()

    # the top-k slider (keyboard on its handle) changes the reconstruction
    k0 = lab.eval_python(page, "b.k")
    rmse0 = lab.eval_python(page, "b.rmse")
    handle = out.locator(".prsg-k-slider .noUi-handle")
    handle.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    lab.wait_for_python(page, "b.k", k0 - 2)
    assert lab.eval_python(page, f"b.rmse == float(b.reconstruction.rmse[{k0 - 2}])") is True
    _wait_attr(page, ".prsg-rec", "data-step", str(k0 - 2))
    page.keyboard.press("Home")  # k = 0: g(b), far from the target
    lab.wait_for_python(page, "b.k", 0)
    assert lab.eval_python(page, "b.rmse") != rmse0
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    lab.wait_for_python(page, "b.k", 2)
    # clicking a patch of the image sets the reconstruction target
    out.locator(f".prsg-rec .prsg-cell[data-patch='{patches[2]}']").click()
    lab.wait_for_python(page, "b.target", sorted([patches[0], patches[2]]))
    lab.wait_for_python(page, "b.reconstruction is not None and b.reconstruction.target == b.target", True)
    # ... and keeps the chosen k (issue 9, point 7)
    assert lab.eval_python(page, "b.k") == 2
    _wait_attr(page, ".prsg-rec", "data-step", "2")
    # every view says which explanation it shows
    assert "toy-scenes · seed 0 · N = {" in out.locator(".prsg-identity").first.inner_text()
    _shot(lab, page, out, "component-browser")


def test_sparsity_curve_hover_and_updates(lab):
    page, out, plot = _show(lab, "e = ex.explain(0, n=3)\nc = SparsityCurve(e)\nc", "sparsity.ipynb",
                            ".prsg-sparsity")
    lab.wait_for_python(page, "[s['status'] for s in c.plot.series]", ["complete", "complete"],
                        timeout=SOLVE_TIMEOUT)
    _wait_attr(page, ".prsg-sparsity", "data-status", "complete|complete")
    assert plot.get_attribute("data-series") == "seed 0|dense control"

    # hover the largest element of the first curve: the readout (and Python) get rank 1
    x, y = (float(v) for v in plot.get_attribute("data-probe").split(","))
    box = plot.locator("canvas").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    lab.wait_for_python(page, "c.hover.get('rank')", 1)
    top = lab.eval_python(page, "float(c.curves['seed 0'][0])")
    assert lab.eval_python(page, "c.hover['value']") == pytest.approx(top, rel=1e-6)
    assert "rank 1" in plot.locator(".prsg-readout").inner_text()

    # the log-rank axis is the default; the checkbox (ipywidgets) reaches the plot
    assert lab.eval_python(page, "c.plot.log_x") is True
    out.locator(".widget-checkbox input").click()
    lab.wait_for_python(page, "c.plot.log_x", False)
    _shot(lab, page, out, "sparsity-curve")


def test_transferability_pairer_seed_and_k(lab):
    page, out, _ = _show(lab, "e = ex.explain(0, n=3)\np = TransferabilityPairer(e, seed_b=1)\np",
                         "pairer.ipynb", ".prsg-pair")
    lab.wait_for_python(page, "p.ratio is not None", True, timeout=SOLVE_TIMEOUT)
    assert lab.eval_python(page, "(p.k_a, p.k_b)") == (2, 4)  # defaults for 7 components

    # a new seed typed into the box: a new second sample, re-solved, a new result
    box = out.locator(".prsg-seed-b input")
    box.fill("7")
    box.press("Enter")
    lab.wait_for_python(page, "p.seed_b", 7)
    lab.wait_for_python(page, "p.explanation_b.sample.seed", 7)
    lab.wait_for_python(page, "p.ratio is not None", True, timeout=SOLVE_TIMEOUT)
    assert lab.eval_python(page, "p.ratio == __import__('prsg_widgets').metrics.transferability("
                           "e, p.explanation_b, p.k_a, p.k_b).ratio") is True
    _wait_attr(page, ".prsg-pairview", "data-label-b", "seed 7")

    # k_a slider: keyboard on its handle
    handle = out.locator(".widget-slider", has_text="k_a").locator(".noUi-handle")
    handle.focus()
    page.keyboard.press("Home")
    lab.wait_for_python(page, "p.k_a", 1)
    lab.wait_for_python(page, "p.result.k_a", 1)
    assert len(lab.eval_python(page, "p.view.top_a")) == 1
    _wait_attr(page, ".prsg-pairview", "data-ka", "1")
    assert out.locator(".prsg-pairview [data-side='a'] .prsg-chip").count() == 1
    _shot(lab, page, out, "pairer")


def test_explore_dashboard_renders(lab):
    page, out, _ = _show(lab, 'd = explore("toy-scenes", grid=4, cheap=True, n=3, seed=0)\nd',
                         "explore.ipynb", ".prsg-pgs")
    # on a CPU the dashboard runs the nested interactive mode, and says so
    assert "nested" in out.locator(".prsg-solver-mode").inner_text()
    assert lab.eval_python(page, "d.explainer.config.nested") is True
    for sel in (".prsg-cb", ".prsg-rec", ".prsg-sparsity", ".prsg-pair"):
        out.locator(sel).first.wait_for(state="visible")
    # progress is visible while the kernel keeps answering
    assert out.locator(".prsg-progress:visible").count() == 1  # one progress line for the dashboard
    t0 = time.monotonic()
    assert lab.eval_python(page, "len(d.selector.selected)") == 3
    assert time.monotonic() - t0 < 10
    lab.wait_for_python(
        page, "d.browser.reconstruction is not None and d.pairer.ratio is not None and "
              "all(s['status'] == 'complete' for s in d.curve.plot.series)", True,
        timeout=SOLVE_TIMEOUT * 2)
    old = lab.eval_python(page, "d.explanation.patches")
    # "Explain" after "clear": a message, no ValueError in the kernel (checked at teardown too)
    out.locator(".prsg-pgs button.prsg-clear").click()
    lab.wait_for_python(page, "d.selector.selected", [])
    out.locator(".prsg-explain").click()
    lab.wait_for_python(page, "d.selector.message.startswith('select at least one patch')", True)
    lab.check_errors(page)
    # a new selection through the UI: every view marks itself stale, still naming what it shows
    for p in (5, 6):
        out.locator(f".prsg-pgs .prsg-cell[data-patch='{p}']").click()
    lab.wait_for_python(page, "d.selector.selected", [5, 6])
    lab.wait_for_python(page, "[v.stale for v in (d.browser, d.curve, d.pairer)]", [True] * 3)
    badges = out.locator(".prsg-stale-badge")
    badges.first.wait_for(state="visible")
    assert badges.count() == 3
    assert f"N = {{{', '.join(map(str, old))}}}" in out.locator(".prsg-identity").first.inner_text()
    assert out.locator(".prsg-component-browser.prsg-stale").count() == 1
    # "Explain selection" re-runs all views on it: the stale marks go, old results go at once
    out.locator(".prsg-explain").click()
    lab.wait_for_python(page, "d.explanation.patches", [5, 6])
    lab.wait_for_python(page, "d.browser.explanation is d.explanation and d.pairer.explanation_a is d.explanation",
                        True)
    assert out.locator(".prsg-stale-badge").count() == 0
    assert "N = {5, 6}" in out.locator(".prsg-identity").first.inner_text()
    lab.wait_for_python(page, "d.browser.reconstruction is not None and d.pairer.ratio is not None",
                        True, timeout=SOLVE_TIMEOUT * 2)
    # the glossary: an ⓘ shows its entry on hover
    info = out.locator(".prsg-info[data-term='OR interaction']").first
    info.hover()
    pop = info.locator(".prsg-pop")
    pop.wait_for(state="visible")
    assert "Harsanyi" in pop.inner_text()
    page.mouse.move(0, 0)
    shot = _shot(lab, page, out, "explore-dashboard")
    assert shot.stat().st_size > 10_000
    # the same dashboard in the dark theme (screenshots for the docs)
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    page.wait_for_timeout(1500)
    _shot(lab, page, out, "explore-dashboard-dark")
    _set_theme(page, light=True)  # Lab saves the theme in the (shared) settings: leave it light
    # one click re-solves the same patches independently (the reference solve)
    out.locator(".prsg-independent").click()
    lab.wait_for_python(page, "d.explainer.config.nested", False)
    lab.wait_for_python(page, "d.explanation.explainer is d.explainer and d.explanation.patches", [5, 6])
    out.locator(".prsg-solver-mode", has_text="independent").wait_for(state="visible")
    lab.wait_for_python(page, "d.browser.reconstruction is not None and d.pairer.ratio is not None",
                        True, timeout=SOLVE_TIMEOUT * 2)
    # ... and one click goes back to the nested result, kept in memory
    out.locator(".prsg-nested").click()
    lab.wait_for_python(page, "d.explainer.config.nested and d.explanation.is_complete", True)


def test_progress_eta_cancel_and_resume(lab):
    """Issue 9, point 3: per-subset progress with speed and ETA, and a Cancel button that stops
    the solve from the view (then Resume).
    """
    # a learning rate too small to ever reach ε: every subset runs its whole (long) budget
    code = ("slow = Explainer('toy-scenes', grid=4, cheap=True, solver='tiny', iterations=20000, lr=1e-7,"
            " restart=False, progress=False)\n"
            "e = slow.explain(0, n=3)\nb = ComponentBrowser(e)\nb")
    page, out, _ = _show(lab, code, "cancel.ipynb", ".prsg-cb")
    status = out.locator(".prsg-status").first
    # the status line, refreshed once a second while solving, shows the measured speed
    # (the HTML widget replaces its span on every update: query it afresh)
    page.wait_for_function("() => { const el = document.querySelector('.prsg-status');"
                           " return !!el && /it\\/s/.test(el.textContent); }", timeout=SOLVE_TIMEOUT * 1000)
    assert "minimal features" in status.inner_text()
    cancel = out.locator(".prsg-cancel")
    assert cancel.inner_text().strip() == "Cancel"
    cancel.click()
    lab.wait_for_python(page, "b.error is not None and not e.is_complete", True, timeout=SOLVE_TIMEOUT)
    status.locator("text=stopped —").wait_for(state="visible")
    assert "Interrupted" not in status.inner_text() and "Error" not in status.inner_text()
    out.locator(".prsg-cancel", has_text="Resume").wait_for(state="visible")
    _shot(lab, page, out, "cancelled")
    out.locator(".prsg-cancel", has_text="Resume").click()
    lab.wait_for_python(page, "b.error is None and b.future is not None and not b.future.done()", True)
    lab.run_code(page, "slow.cancel()")
    lab.wait_for_python(page, "b.error is not None", True, timeout=SOLVE_TIMEOUT)


def _set_theme(page, light: bool) -> None:
    harness.set_theme(page, light)


def _text_luminance(page, selector: str) -> float:
    """Mean brightness of the opaque pixels in the y-axis label band of a plot canvas."""
    return page.evaluate(
        """(sel) => { const c = document.querySelector(sel); const ctx = c.getContext('2d');
           const dpr = c.width / c.getBoundingClientRect().width;
           const d = ctx.getImageData(0, 0, Math.floor(58 * dpr), c.height).data;
           let sum = 0, n = 0;
           for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 160) { sum += (d[i] + d[i + 1] + d[i + 2]) / 3; n++; }
           return n ? sum / n : -1; }""", selector)


def test_theme_switch_hidpi_and_export(lab):
    """Issue 9, points 5 and 6: plots follow the theme live (read a pixel of the axis text),
    canvases render at devicePixelRatio 2, a view exports a PNG and the explanation saves.
    """
    page = lab.open_notebook([SETUP, "e = ex.explain(0, n=3)\nc = SparsityCurve(e)\nc",
                              "b = ComponentBrowser(e, target=e.patches[:1])\nb"],
                             name="theme.ipynb", device_scale_factor=2)
    out = lab.cell_output(page, 1)
    plot = out.locator(".prsg-sparsity")
    plot.wait_for(state="visible")
    lab.wait_for_python(page, "[s['status'] for s in c.plot.series]", ["complete", "complete"],
                        timeout=SOLVE_TIMEOUT)
    lab.wait_for_python(page, "b.reconstruction is not None", True, timeout=SOLVE_TIMEOUT)
    canvas = ".prsg-sparsity canvas"
    # HiDPI: twice as many canvas pixels as CSS pixels, for the plots and the images
    for sel in (canvas, ".prsg-rec-plot", ".prsg-recon", ".prsg-rec .prsg-img"):
        ratio = page.evaluate("(s) => { const c = document.querySelector(s);"
                              " return c.width / c.getBoundingClientRect().width; }", sel)
        assert abs(ratio - 2) < 0.05, (sel, ratio)
    # thumbnails: at least two canvas pixels per CSS pixel (they shrink to fit the gallery)
    ratio = page.evaluate("() => { const c = document.querySelector('.prsg-thumb canvas');"
                          " return c.width / c.getBoundingClientRect().width; }")
    assert ratio >= 1.95, ratio
    assert page.evaluate("(s) => document.querySelector(s).width", ".prsg-rec-plot") == 400
    _set_theme(page, light=True)  # Lab keeps the theme of an earlier test in its settings
    light = _text_luminance(page, canvas)
    assert 0 <= light < 110, light
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    page.wait_for_function("(s) => { const r = document.querySelector(s);"
                           " return r.dataset.textColor && !/^(#000|rgba?\\(0, 0, 0)/.test(r.dataset.textColor); }",
                           arg=".prsg-sparsity", timeout=10_000)
    page.wait_for_timeout(600)
    dark = _text_luminance(page, canvas)
    assert dark > 150, dark
    _shot(lab, page, out, "sparsity-dark")
    _set_theme(page, light=True)
    assert 0 <= _text_luminance(page, canvas) < 110
    # export: a PNG of the view is downloaded
    with page.expect_download() as info:
        plot.locator(".prsg-export").click()
    download = info.value
    target = lab._artifact_dir() / download.suggested_filename
    target.parent.mkdir(parents=True, exist_ok=True)
    download.save_as(str(target))
    assert download.suggested_filename.startswith("sparsity_toy-scenes")
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 2000
    # "Save explanation": Explanation.save in the notebook's folder
    lab.cell_output(page, 2).locator(".prsg-save").click()
    lab.wait_for_python(page, "b.saved_path is not None and __import__('os').path.exists(b.saved_path)", True)
    assert (lab.root_dir / lab.eval_python(page, "b.saved_path")).exists()
    # "paper figure (SVG)": the view's paper figure (matplotlib), downloaded (not written beside
    # the notebook) under a short name
    with page.expect_download() as info:
        out.locator(".prsg-svg").click()
    svg = info.value
    assert svg.suggested_filename.startswith("sparsity_toy-scenes_seed0_N") and svg.suggested_filename.endswith(".svg")
    svg_path = lab._artifact_dir() / svg.suggested_filename
    svg.save_as(str(svg_path))
    assert "<svg" in svg_path.read_text()[:2000]
    assert not list(lab.root_dir.glob("*.svg"))


README_EXPLORE = """from prsg_widgets import explore
d = explore("toy-scenes", grid=4, cheap=True, n=3)   # the README's example on the toy model
d.wait()                                         # in scripts: block until solved
d"""


def test_readme_explore_cell_does_not_block_and_shows_the_dashboard(lab):
    """Issue 9, point 1: the README's explore() block pasted as one cell shows the dashboard
    and leaves the kernel free (``d.wait()`` does not block under JupyterLab).
    """
    t0 = time.monotonic()
    page = lab.open_notebook([SETUP, README_EXPLORE], name="readme.ipynb")
    elapsed = time.monotonic() - t0
    out = lab.cell_output(page, 1)
    out.locator(".prsg-dashboard").wait_for(state="visible")
    assert out.locator(".prsg-dashboard").count() == 1  # shown once: wait() returned None
    assert "not blocking" in out.inner_text()
    assert lab.eval_python(page, "d.explanation.is_complete") is False or elapsed < SOLVE_TIMEOUT
    # in a script (no front-end), wait() still blocks until solved
    lab.run_code(page, "d.wait(block=True)", timeout=SOLVE_TIMEOUT * 2)
    assert lab.eval_python(page, "d.explanation.is_complete and d.pairer.ratio is not None") is True
    text = lab.run_code(page, "print(d.explanation.components(top=2))")
    assert "Component(S={" in text and "tensor(" not in text


def test_dashboard_in_notebook7(lab):
    """Issue 9: the dashboard in Notebook 7 (``/notebooks/`` URL): it renders, a click reaches
    Python and the solves complete.
    """
    page = lab.open_notebook([SETUP, 'd = explore("toy-scenes", grid=4, cheap=True, n=3, seed=0, confirm_above=2)\nd'],
                             name="nb7.ipynb", ui="notebook")
    assert "/notebooks/" in page.url
    out = lab.cell_output(page, 1)
    for sel in (".prsg-pgs", ".prsg-cb", ".prsg-rec", ".prsg-sparsity", ".prsg-pair"):
        out.locator(sel).first.wait_for(state="visible")
    out.locator(".prsg-pgs button.prsg-clear").click()
    lab.wait_for_python(page, "d.selector.selected", [])
    out.locator(".prsg-pgs .prsg-cell[data-patch='5']").click()
    lab.wait_for_python(page, "d.selector.selected", [5])
    lab.wait_for_python(page, "d.browser.stale", True)
    lab.wait_for_python(page, "d.browser.reconstruction is not None and d.pairer.ratio is not None",
                        True, timeout=SOLVE_TIMEOUT * 2)
    # above `confirm_above` minimal features, Explain shows the estimate and asks first
    out.locator(".prsg-pgs .prsg-cell[data-patch='6']").click()
    lab.wait_for_python(page, "d.selector.selected", [5, 6])
    assert "2^2 = 4 minimal features" in out.locator(".prsg-estimate").inner_text()
    out.locator(".prsg-explain").click()
    confirm = out.locator(".prsg-confirm-box")
    confirm.wait_for(state="visible")
    assert "8 minimal features to solve" in confirm.inner_text()  # images a and b (nested: no control)
    assert lab.eval_python(page, "d.explanation.patches") != [5, 6]  # nothing started yet
    out.locator(".prsg-confirm").click()
    lab.wait_for_python(page, "d.explanation.patches", [5, 6])
    confirm.wait_for(state="hidden")
    lab.wait_for_python(page, "d.browser.reconstruction is not None and d.pairer.ratio is not None",
                        True, timeout=SOLVE_TIMEOUT * 2)
    _shot_nb7 = lab.screenshot(page, "notebook7-dashboard", locator=out)
    assert _shot_nb7.stat().st_size > 10_000


_SIZES_JS = """() => {
  const pgs = document.querySelector('.prsg-pgs canvas'), cb = document.querySelector('.prsg-cb');
  const out = pgs.closest('.jp-OutputArea-output');
  const gallery = cb.querySelector('.prsg-gallery');
  const box = (c) => { const r = c.getBoundingClientRect();
    return {css: r.width, cssH: r.height, w: c.width, h: c.height}; };
  return {
    out: out.getBoundingClientRect().right - pgs.getBoundingClientRect().left,
    selector: box(pgs),
    filter: box(cb.querySelector('.prsg-filter-stage canvas')),
    detail: box(cb.querySelector('.prsg-detail canvas')),
    thumbs: Array.from(gallery.querySelectorAll('canvas')).map(box),
    columns: getComputedStyle(gallery).gridTemplateColumns.split(' ').length,
    overflow: gallery.scrollWidth - gallery.clientWidth,
  };
}"""


def test_views_size_from_their_container(lab):
    """Issue 9, point 5: the selector's image and the component browser's filter image,
    thumbnails and detail image size from the container — a narrow and a wide notebook column —
    with a backing store of CSS size × devicePixelRatio; the thumbnails reflow in a CSS grid.
    """
    code = ("from IPython.display import display\n"
            "e = ex.explain(0, n=3)\ne.solve_all()\n"
            "sel = PatchGridSelector(ex, 0, display_size=520)\n"
            "b = ComponentBrowser(e, solve=False)\nb.selected_subset = e.full\n"
            "display(sel, b)")
    page = lab.open_notebook([SETUP, code], name="sizes.ipynb", device_scale_factor=2)
    out = lab.cell_output(page, 1)
    out.locator(".prsg-cb .prsg-detail canvas.prsg-detail-img").wait_for(state="visible")
    page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")

    def sizes(width: int, settled: str) -> dict:
        page.set_viewport_size({"width": width, "height": 1400})
        page.wait_for_function(f"() => {{ const s = ({_SIZES_JS})(); return {settled}; }}", timeout=10_000)
        page.wait_for_timeout(300)  # any last redraw
        return page.evaluate(_SIZES_JS)

    wide = sizes(1500, "s.selector.css === 520 && s.columns >= 6")
    narrow = sizes(560, "s.selector.css < 520 && s.columns < 6")
    for s in (wide, narrow):
        canvases = [s["selector"], s["filter"], s["detail"], *s["thumbs"]]
        assert len(s["thumbs"]) == 7
        for c in canvases:  # sharp: one canvas pixel per device pixel
            assert abs(c["w"] - 2 * c["css"]) <= 1 and abs(c["h"] - 2 * c["cssH"]) <= 1, (c, s)
        assert s["selector"]["css"] <= s["out"] and s["overflow"] <= 1
        assert min(c["css"] for c in s["thumbs"]) >= 84 - 8  # the grid's minimum cell, less padding
    # the selector fills the narrow column (minus a small margin) and is capped in the wide one
    assert narrow["selector"]["css"] >= narrow["out"] - 8
    assert narrow["filter"]["css"] < wide["filter"]["css"]
    assert narrow["detail"]["css"] < wide["detail"]["css"]
    lab.screenshot(page, "sizes-narrow", locator=out)


def test_progress_bar_moves_inside_a_batch(lab):
    """Issue 9, point 3: during one long batch (no subset finishes) the bar moves with the
    solver's iterations while ``explanation.progress`` stays put, and never claims more than
    finished + the in-flight subsets' share of their iteration budget.
    """
    iters = 6000
    code = (f"slow = Explainer('toy-scenes', grid=4, cheap=True, solver='tiny', iterations={iters},"
            " early_stop=False, restart=False, batch_size=64, progress=False)\n"
            "e = slow.explain(0, n=3)\nb = ComponentBrowser(e)\nb")
    page, out, _ = _show(lab, code, "inbatch.ipynb", ".prsg-cb")
    bar_js = ("() => { const b = document.querySelector('.prsg-progress .progress-bar');"
              " return b ? parseFloat(b.style.width) : -1; }")
    # the bar leaves the finished count (f_∅ = b: 1 of 8) while no subset has finished
    page.wait_for_function(f"() => ({bar_js})() > 100 / 8 + 0.3", timeout=SOLVE_TIMEOUT * 1000)

    def read():
        value = page.evaluate(bar_js) / 100 * 8
        steps, done = lab.eval_python(page, "(slow.solver_steps, e.progress[0])")
        return value, steps, done

    v1, s1, d1 = read()
    page.wait_for_timeout(2500)
    v2, s2, d2 = read()
    assert d1 == d2 == 1, "a subset finished: the batch was too short for this test"
    assert v2 > v1 > 1
    for v, s, d in ((v1, s1, d1), (v2, s2, d2)):
        assert v <= d + 7 * min(0.95, s / iters) + 1e-6 < 8  # finished + in-flight share, never 100 %
    assert "7 in the batch" in out.locator(".prsg-status").first.inner_text()
    lab.run_code(page, "slow.cancel()")
    lab.wait_for_python(page, "b.error is not None", True, timeout=SOLVE_TIMEOUT)
    assert lab.eval_python(page, "b.progress.value") == 1  # cancelled: the finished ones are kept
