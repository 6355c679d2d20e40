"""Exports say what the screen says (issue 23): the SVG of a view draws its tiles as the view does
(same pixels, "≈ 0" tiles flat, the same outline colours), the exported figures carry the captions
the view shows, and every export — PNG or SVG, any view — is named by one function.

The PNG itself is drawn by the browser: ``browser/test_export_browser.py`` checks it.
"""
from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("anywidget")

from matplotlib.text import Text  # noqa: E402
from PIL import Image  # noqa: E402
from tiny_model import make_tiny_module  # noqa: E402

from prsg_widgets import Explainer, palette, split_generator  # noqa: E402
from prsg_widgets.widgets import (  # noqa: E402
    ComponentBrowser,
    ComponentGallery,
    PatchGridSelector,
    SparsityCurve,
    TransferabilityPairer,
)
from prsg_widgets.widgets._images import decode_rgba  # noqa: E402
from prsg_widgets.widgets._view_modules import STATIC, module_graph  # noqa: E402

# <view>_<model>_seed<seed>_N<p1>-<p2>-…, one seed/N part per image shown (docs/widgets.md, "Exports")
PART = r"seed(\d+|x)_N(\d+(-\d+)*)?"
NAME = re.compile(rf"^(components|reconstruction|sparsity|transferability|patches)_[A-Za-z0-9.-]+_{PART}(_vs_{PART})*$")
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"


@pytest.fixture(scope="module")
def planted():
    """toy-planted, nested: one real component (the object under patches 3 and 10) and 14 that
    are numerically zero (≈ 1e-7 of it) — the tiles the screen shows as a flat "≈ 0".
    """
    ex = Explainer("toy-planted", grid=6, solver="interactive", progress=False)
    yield ex.explain(1, patches=[3, 10, 28, 0]).solve_all()
    ex.close()


@pytest.fixture(scope="module")
def tiny():
    gen = split_generator(make_tiny_module(), "2", sample_codes=(4,), name="tiny")
    ex = Explainer(gen, grid=4, solver="fast", iterations=150, progress=False, baseline_samples=64)
    yield ex
    ex.close()


def _svg_images(data: bytes) -> list[np.ndarray]:
    """The raster images of an SVG, in drawing order, as ``(H, W, 3)`` uint8."""
    root = ET.fromstring(data)
    out = []
    for node in root.iter(f"{SVG}image"):
        href = node.get(XLINK) or node.get("href")
        png = base64.b64decode(href.split(",", 1)[1])
        out.append(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")))
    return out


def test_svg_tiles_are_the_screens_tiles_and_negligible_ones_flat(planted, tmp_path):
    b = ComponentBrowser(planted, solve=False)
    items = [it for it in b.gallery.items if it["status"] == "ready"][:12]
    flat = [it for it in items if it["negligible"]]
    assert len(flat) >= 5 and not items[0]["negligible"]  # the premise: the screen shows ≈ 0 tiles
    data = (tmp_path / "c.svg").read_bytes() if b.save_svg(str(tmp_path / "c.svg")) else b""
    images = _svg_images(data)
    assert len(images) == 1 + len(items)  # the image x, then one tile per component, in gallery order
    w, h = b.gallery.width, b.gallery.height
    stride = w * h * 4
    thumbs = bytes(b.gallery.thumbs)
    for it, tile in zip(items, images[1:], strict=True):
        screen = decode_rgba(thumbs[it["thumb"] * stride:(it["thumb"] + 1) * stride], w, h)[..., :3]
        assert tile.shape == screen.shape, "the SVG must embed the tile pixel for pixel (no resampling)"
        diff = np.abs(tile.astype(int) - screen.astype(int)).max()
        assert diff <= 1, (it["patches"], diff)  # same colour scale as the screen (±1 of rounding)
        if it["negligible"]:
            assert (tile == tile[0, 0]).all() and abs(int(tile[0, 0, 0]) - 128) <= 1, "≈ 0 must be a flat grey tile"
    # the outlines in the screen's colours; the tiles' words as the gallery writes them
    text = data.decode("utf-8")
    strokes = set(re.findall(r"stroke: ?(#[0-9a-fA-F]{6})", text))
    assert palette.ACTION_FIELD in strokes and palette.SELECTED in strokes
    assert not strokes & {"#ffff00", "#00ffff"}, strokes  # the old yellow / cyan boxes
    fig = b._figure()
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    for it, title in zip(items, titles[1:], strict=True):
        assert title.startswith(f"#{it['rank']} {{{','.join(map(str, it['patches']))}}}")
        assert title.endswith("≈ 0") == it["negligible"], title
    words = " ".join(t.get_text() for t in fig.findobj(Text))
    assert palette.negligible_words() in words and "action field A(S)" in words


def test_the_negligible_rule_has_one_source():
    constants = module_graph(ComponentGallery._esm.name)["constants.js"]  # what the gallery imports
    assert "export const PALETTE = " in constants and str(palette.NEGLIGIBLE) in constants
    assert palette.negligible_words() in constants
    assert "1/10,000" in palette.negligible_words()  # the words follow the threshold
    css = (STATIC / "prsg.css").read_text()
    for var, value in (("--prsg-field", palette.ACTION_FIELD), ("--prsg-select", palette.SELECTED),
                       ("--prsg-accent", palette.TARGET), ("--prsg-match", palette.MATCHED)):
        assert re.search(rf"{var}:\s*{value}", css), var
    for js in STATIC.glob("*.js"):  # the views' JS takes the palette from Python, never its own copy
        code = js.read_text()
        for value in (palette.ACTION_FIELD, palette.SELECTED, palette.TARGET):
            assert value not in code, (js.name, value)
        assert "numerically zero" not in code, js.name


def test_every_export_is_named_by_one_function(tiny, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    e = tiny.explain(0, patches=[1, 6, 11]).solve_all()
    b = ComponentBrowser(e, solve=False)
    c = SparsityCurve(e, solve=False, dense_control=False)
    p = TransferabilityPairer(e, seed_b=1, solve=False)
    sel = PatchGridSelector(tiny, 0)
    sel.selected = [5, 10]
    names = {
        "components PNG": b.gallery.export_stem, "reconstruction PNG": b.recon_view.export_stem,
        "sparsity PNG": c.plot.export_stem, "transferability PNG": p.view.export_stem,
        "patches PNG": sel.export_stem,
        "components SVG": b.save_svg()[:-4], "sparsity SVG": c.export_stem(),
        "transferability SVG": p.export_stem(),
    }
    for what, name in names.items():
        assert NAME.match(name), (what, name)
    assert names["components PNG"] == names["components SVG"] == "components_tiny_seed0_N1-6-11"
    assert names["reconstruction PNG"] == "reconstruction_tiny_seed0_N1-6-11"
    assert names["patches PNG"] == "patches_tiny_seed0_N5-10"
    assert names["transferability PNG"] == "transferability_tiny_seed0_N1-6-11_vs_seed1_N1-6-11"
    sel.set_sample(3)  # another image, the same patches: the name follows
    assert sel.export_stem == "patches_tiny_seed3_N5-10"
    b.show(tiny.explain(2, patches=[0, 5]))
    assert b.gallery.export_stem == "components_tiny_seed2_N0-5"
    for js in STATIC.glob("*.js"):  # no view makes up its own file name
        for call in re.findall(r"exportButton\(([^)]*)\)", js.read_text()):
            assert call.startswith("root, model") or js.name == "common.js", (js.name, call)


def test_sparsity_svg_writes_the_caption_shown_under_the_curve(tiny):
    e = tiny.explain(0, patches=[1, 6, 11]).solve_all()
    c = SparsityCurve(e, solve=False, dense_control=True)
    c.control.solve_all()
    c.refresh()
    visible = re.sub(r"<span class='prsg-info'.*?</span></span>", "", c.note.value)
    visible = re.sub(r"<[^>]+>", "", visible)
    assert "Exact zeros cannot be drawn" in c.caveat and " ".join(visible.split()) == " ".join(c.caveat.split())
    fig = c._figure()
    words = " ".join(" ".join(t.get_text() for t in fig.findobj(Text)).split())
    assert " ".join(c.caveat.split()) in words
    lines = {ln.get_label().split(" (")[0]: ln for ln in fig.axes[0].get_lines()}
    series = {s["label"]: s for s in c.plot.series}
    for label, line in lines.items():  # the curves in the view's colours and dashes
        assert line.get_color() == series[label]["color"], label
        assert (line.get_linestyle() == "--") == series[label]["dashed"], label
