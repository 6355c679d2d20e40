"""Screenshots of every view and of the teaching notebook for the docs: JupyterLab light and dark,
and Notebook 7.

    python tests/widgets/browser/make_docs_screenshots.py [--out docs] [--skip-teaching]

Starts a private JupyterLab (``harness.LabServer``) and Debian's Chromium (``harness``; see
``shared/BROWSER_TESTING.md``), runs a notebook with the ``explore()`` dashboard and each view on
its own (toy-scenes, cheap layer), waits until everything is solved, and writes
``OUT/screenshots/<view>-<light|dark|nb7>.png``; the dashboard also goes to ``OUT/dashboard.png``
and ``OUT/dashboard-dark.png`` (the README shows them).  Then it runs
``notebooks/teaching_interactions.ipynb`` and writes each widget output as
``OUT/screenshots/teaching-<k>-<light|dark>.png``.  Look at them before committing.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(HERE))

import harness  # noqa: E402

CELLS = [
    "import torch\ntorch.set_num_threads(1)\n"
    "from prsg_widgets import Explainer\n"
    "from prsg_widgets.widgets import (ComponentBrowser, PatchGridSelector, SparsityCurve, "
    "TransferabilityPairer, explore)\n"
    "ex = Explainer('toy-scenes', grid=4, cheap=True, solver='tiny', progress=False)",
    "d = explore('toy-scenes', grid=4, cheap=True, n=3, seed=0)\nd",
    "sel = PatchGridSelector(ex, 0, title='choose the patches N')\nsel.selected = [5, 6, 9]\nsel",
    "e = ex.explain(0, n=3)\nb = ComponentBrowser(e, target=e.patches[:1])\nb",
    "c = SparsityCurve(e)\nc",
    "p = TransferabilityPairer(e, seed_b=1)\np",
]
VIEWS = {1: "dashboard", 2: "selector", 3: "component-browser", 4: "sparsity", 5: "transferability"}
READY = ("d.explanation.is_complete and d.pairer.ratio is not None and b.reconstruction is not None"
         " and all(s['status'] == 'complete' for s in c.plot.series) and p.ratio is not None")


def _theme(page, light: bool) -> None:
    harness.set_theme(page, light, settle_ms=1500)


def _prepare(lab, page) -> None:
    """Everything solved; a component selected, so the detail panel shows."""
    lab.wait_for_python(page, READY, True, timeout=600)
    lab.run_code(page, "d.browser.selected_subset = d.browser.listed[0]\nb.selected_subset = b.listed[0]")
    page.wait_for_timeout(800)


def _shoot_views(lab, page, out: Path, suffix: str, views=VIEWS) -> None:
    page.set_viewport_size({"width": 1500, "height": 2600})
    page.wait_for_timeout(800)
    for index, name in views.items():
        loc = lab.cell_output(page, index)
        loc.scroll_into_view_if_needed()
        page.mouse.move(0, 0)
        page.wait_for_timeout(300)
        loc.screenshot(path=str(out / f"{name}-{suffix}.png"))
        print("wrote", out / f"{name}-{suffix}.png")


def _teaching(lab, out: Path) -> None:
    name = lab.copy_into_root(REPO / "notebooks" / "teaching_interactions.ipynb")
    page = lab.open_existing(name, run=True, timeout=900)
    page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
    page.set_viewport_size({"width": 1400, "height": 2200})
    for light in (True, False):
        _theme(page, light)
        outputs = page.locator(".jp-OutputArea-output:has(.jupyter-widgets, .prsg-widget)")
        for k in range(outputs.count()):
            loc = outputs.nth(k)
            loc.scroll_into_view_if_needed()
            page.wait_for_timeout(400)
            path = out / f"teaching-{k + 1}-{'light' if light else 'dark'}.png"
            loc.screenshot(path=str(path))
            print("wrote", path)
    _theme(page, True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs"), help="docs folder (screenshots go to OUT/screenshots)")
    parser.add_argument("--skip-teaching", action="store_true", help="only the widget views")
    args = parser.parse_args(argv)
    missing = harness.missing_requirements()
    if missing:
        print("cannot take screenshots: " + "; ".join(missing), file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    docs = Path(args.out)
    shots = docs / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="prsg-shots-") as tmp:
        server = harness.LabServer(Path(tmp) / "lab")
        server.start()
        try:
            with sync_playwright() as pw:
                browser = harness.launch_chromium(pw)
                lab = harness.Lab(server, browser, Path(tmp) / "artifacts", "docs-screenshots")
                try:
                    page = lab.open_notebook(CELLS, name="views.ipynb", timeout=600)
                    page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
                    _prepare(lab, page)
                    _theme(page, True)
                    _shoot_views(lab, page, shots, "light")
                    _theme(page, False)
                    _shoot_views(lab, page, shots, "dark")
                    _theme(page, True)  # Lab keeps the theme in its settings: leave it light
                    shutil.copyfile(shots / "dashboard-light.png", docs / "dashboard.png")
                    shutil.copyfile(shots / "dashboard-dark.png", docs / "dashboard-dark.png")
                    lab.write_notebook(CELLS, "views-nb7.ipynb")
                    page7 = lab.open_existing("views-nb7.ipynb", ui="notebook", timeout=600)
                    _prepare(lab, page7)
                    _shoot_views(lab, page7, shots, "nb7")
                    if not args.skip_teaching:
                        _teaching(lab, shots)
                    lab.check_errors()
                finally:
                    lab.close()
                    browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
