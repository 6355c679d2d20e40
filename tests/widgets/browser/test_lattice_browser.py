"""Real-browser test of the teaching lattice (:class:`prsg_widgets.teaching.LatticeView`) in
JupyterLab 4: the diagram is painted, a click on a node selects it in Python and repaints, and the
saved picture (``image_data``, what the docs site shows) is the same as what the canvas draws.
"""
from __future__ import annotations

import pytest

pytest.importorskip("ipycanvas")

CELLS = [
    "import torch\nfrom prsg_widgets import teaching as tg\n"
    "view = tg.LatticeView(tg.preset_game('AND of players 1 and 2', 3), mode='AND')\nview",
]

# the lattice's on-screen canvas: its size in CSS pixels and the colour under a CSS point
_JS_PIXEL = """([x, y]) => {
  const c = [...document.querySelectorAll('.jp-OutputArea canvas')].find(c => c.width >= 1000);
  const r = c.getBoundingClientRect();
  const d = c.getContext('2d').getImageData(Math.round(x * c.width / r.width),
                                            Math.round(y * c.height / r.height), 1, 1).data;
  return [d[0], d[1], d[2], d[3]];
}"""


def test_lattice_paints_and_a_click_selects_a_node(lab):
    page = lab.open_notebook(CELLS, name="lattice.ipynb")
    canvas = page.locator(".jp-OutputArea canvas").first
    canvas.wait_for(timeout=30_000)
    positions = lab.eval_python(page, "{t: list(p) for t, p in view.positions.items()}")
    colours = lab.eval_python(page, "view.drawn_colors")
    r = lab.eval_python(page, "view.radius")
    x, y = positions["3"] if "3" in positions else positions[3]
    want = [int(colours[3][i:i + 2], 16) for i in (1, 3, 5)]
    # the node {1,2} is painted in the colour Python chose for it (left of its labels)
    page.wait_for_function(f"() => ({_JS_PIXEL})([{x - 0.7 * r}, {y}])[3] > 0", timeout=15_000)
    assert page.evaluate(_JS_PIXEL, [x - 0.7 * r, y])[:3] == want
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    lab.wait_for_python(page, "view.selected", 3)
    assert "T = {1,2}" in page.locator(".jp-OutputArea").inner_text()
    lab.screenshot(page, "lattice-selected", locator=canvas)
