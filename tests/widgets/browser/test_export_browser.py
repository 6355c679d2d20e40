"""Real-browser test of issue 23's PNG exports: the file shows everything the view shows — every
row of a scrolled gallery, the caption Python puts under the sparsity curve — and is named by
Python's one naming function (``_export.export_stem``), in the light and the dark theme.
"""
from __future__ import annotations

import io

import pytest

pytest.importorskip("anywidget")

from harness import set_theme  # noqa: E402
from test_dashboard_browser import _download  # noqa: E402
from test_widgets_browser import _show  # noqa: E402


def _exported(view) -> dict:
    return view.evaluate("(r) => ({text: r.dataset.exportedText || '', name: r.dataset.exported || '',"
                         " size: r.dataset.exportedSize || ''})")


@pytest.mark.parametrize("light", [True, False], ids=["light", "dark"])
def test_png_exports_show_every_row_and_the_caption(lab, light):
    from PIL import Image

    code = ("from IPython.display import display\n"
            "e = ex.explain(0, n=4)\ne.solve_all()\n"
            "b = ComponentBrowser(e, solve=False)\n"
            "c = SparsityCurve(e, solve=False)\nc.control.solve_all()\nc.refresh()\n"
            "display(b, c)")
    page, out, cb = _show(lab, code, f"export-{'light' if light else 'dark'}.ipynb", ".prsg-cb")
    set_theme(page, light)
    cb.locator(".prsg-thumb[data-status='ready']").first.wait_for(state="visible")
    # a small screen: the gallery's scroll box shows two rows and cuts the third
    gallery = cb.locator(".prsg-gallery")
    gallery.evaluate("(g) => { g.style.maxHeight = '150px'; }")
    hidden = gallery.evaluate("(g) => g.scrollHeight - g.clientHeight")
    assert hidden > 50  # the premise: rows the screen scrolls to
    last = lab.eval_python(page, "b.gallery.items[-1]['rank']")
    png = _download(lab, page, cb.locator(".prsg-export"))
    got = _exported(cb)
    assert png.name == got["name"] == lab.eval_python(page, "b.gallery.export_stem") + ".png"
    assert f"#{last}" in got["text"].split(), "the last (scrolled-away) thumbnail is not in the export"
    img = Image.open(io.BytesIO(png.read_bytes()))
    height = cb.evaluate("(r) => r.getBoundingClientRect().height")
    assert img.height >= height + hidden - 2  # every row, none clipped (device pixel ratio 1)
    # the health line Python shows above the gallery is in the export too; the screen is untouched
    assert "cancellation" in got["text"]
    assert gallery.evaluate("(g) => g.style.maxHeight") == "150px"
    assert gallery.evaluate("(g) => g.scrollHeight - g.clientHeight") == hidden
    # the sparsity curve: its caption under it in the file
    sp = out.locator(".prsg-sparsity")
    sp.scroll_into_view_if_needed()
    png2 = _download(lab, page, sp.locator(".prsg-export"))
    got2 = _exported(sp)
    assert png2.name == got2["name"] == lab.eval_python(page, "c.plot.export_stem") + ".png"
    caveat = lab.eval_python(page, "c.caveat")
    assert " ".join(caveat.split()) in got2["text"], got2["text"][-400:]
    img2 = Image.open(io.BytesIO(png2.read_bytes()))
    assert img2.height > sp.evaluate("(r) => r.getBoundingClientRect().height") + 20
    set_theme(page, True)
