"""Tests of the teaching material's lattice diagram (:class:`prsg_widgets.teaching.LatticeView`):
the layout and colour functions without a widget stack, then the widget without a browser (its
``draw_count`` / ``drawn_values`` record each drawing).
"""
from __future__ import annotations

import itertools

import pytest
import torch

from prsg_widgets import teaching as tg


def _rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


# ---------------------------------------------------------------------- layout
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_positions_one_row_per_size_all_nodes_distinct(n):
    pos = tg.lattice_positions(n, width=560, height=400)
    assert sorted(pos) == list(range(1 << n))
    assert len(set(pos.values())) == 1 << n
    ys = {}
    for t, (x, y) in pos.items():
        assert 0 < x < 560 and 0 < y < 400
        ys.setdefault(bin(t).count("1"), set()).add(y)
    # every size has exactly one row, and larger coalitions sit higher (smaller y)
    assert all(len(row) == 1 for row in ys.values())
    row_y = [ys[k].pop() for k in range(n + 1)]
    assert row_y == sorted(row_y, reverse=True)
    # row k holds C(n, k) nodes, spread symmetrically about the centre
    for k in range(n + 1):
        xs = sorted(x for t, (x, _) in pos.items() if bin(t).count("1") == k)
        assert len(xs) == len(list(itertools.combinations(range(n), k)))
        assert sum(xs) / len(xs) == pytest.approx(280.0)


def test_positions_respect_top_margin():
    pos = tg.lattice_positions(3, width=400, height=300, margin=20, top=50)
    assert pos[0b111][1] == pytest.approx(50)
    assert pos[0][1] == pytest.approx(280)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_edges_are_the_covering_pairs(n):
    edges = tg.lattice_edges(n)
    assert len(edges) == n * 2 ** (n - 1)
    assert len(set(edges)) == len(edges)
    for s, t in edges:
        assert s & t == s and bin(t ^ s).count("1") == 1


def test_node_at_hits_the_node_under_the_pointer():
    pos = tg.lattice_positions(3)
    for t, (x, y) in pos.items():
        assert tg.lattice_node_at(pos, x + 3, y - 4, radius=10) == t
    assert tg.lattice_node_at(pos, 1.0, 1.0, radius=10) is None


# ---------------------------------------------------------------------- colours
def test_colour_zero_is_white_and_sign_sets_hue():
    assert tg.diverging_color(0.0, 2.0) == "#ffffff"
    r, g, b = _rgb(tg.diverging_color(1.0, 2.0))
    assert r > b and r > g                      # positive → red
    r, g, b = _rgb(tg.diverging_color(-1.0, 2.0))
    assert b > r and b > g                      # negative → blue
    assert tg.diverging_color(5.0, 2.0) == tg.diverging_color(2.0, 2.0)  # clipped beyond the scale
    assert tg.diverging_color(1.0, 0.0) == "#ffffff"


def test_colour_scale_is_symmetric_and_set_by_max_abs():
    colors, scale = tg.value_colors([0.0, 2.0, -2.0, 1.0, -1.0, -4.0])
    assert scale == 4.0
    assert colors[0] == "#ffffff"
    assert colors[5] == tg.diverging_color(-1.0, 1.0)  # the largest |value| gets the full hue
    # equal and opposite values sit equally far along their half of the map (x / max |value|)
    full_red, full_blue = _rgb(tg.diverging_color(1, 1)), _rgb(tg.diverging_color(-1, 1))

    def fraction(color: str, end: tuple[int, int, int]) -> float:
        c = _rgb(color)
        return max((255 - ci) / (255 - ei) for ci, ei in zip(c, end, strict=True) if ei != 255)

    for pos, neg, expected in [(1, 2, 0.5), (3, 4, 0.25)]:
        assert fraction(colors[pos], full_red) == pytest.approx(expected, abs=0.01)
        assert fraction(colors[neg], full_blue) == pytest.approx(expected, abs=0.01)
    assert colors == tg.value_colors([0.0, 1.0, -1.0, 0.5, -0.5, -2.0])[0]  # only x / max |x| matters
    # stronger values are further from white
    assert sum(_rgb(colors[3])) > sum(_rgb(colors[1]))


def test_colour_float_noise_is_white():
    colors, scale = tg.value_colors(torch.tensor([1e-15, -1e-14, 0.0]))
    assert scale == 0.0 and colors == ["#ffffff"] * 3


def test_lattice_values_modes():
    v = tg.preset_game("AND of players 1 and 2", 3)
    assert torch.equal(tg.lattice_values(v, "value"), v)
    assert torch.allclose(tg.lattice_values(v, "AND"), tg.and_interactions(v))
    assert torch.allclose(tg.lattice_values(v, "OR"), tg.or_interactions(v))
    with pytest.raises(ValueError, match="mode"):
        tg.lattice_values(v, "XOR")


# ---------------------------------------------------------------------- widget
pytest.importorskip("ipycanvas")


@pytest.mark.parametrize("n", [2, 3, 4])
def test_view_builds_and_draws(n):
    v = torch.randn(1 << n, generator=torch.Generator().manual_seed(n), dtype=torch.float64)
    view = tg.LatticeView(v)
    assert view.draw_count == 1
    assert view.drawn_values == pytest.approx(v.tolist())
    assert len(view.drawn_colors) == 1 << n
    # a fixed CSS size with twice the pixels (HiDPI), so clicks map onto the drawn positions
    assert (view.canvas.width, view.canvas.height) == (2 * view.width, 2 * view.height)
    assert view.canvas.layout.width == f"{view.width}px" and view.canvas.layout.height == f"{view.height}px"
    r = view.radius
    pts = list(view.positions.values())
    assert all((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 >= (2 * r) ** 2 for a, b in itertools.combinations(pts, 2))
    assert "application/vnd.jupyter.widget-view+json" in view._repr_mimebundle_()


def test_saved_picture_is_the_drawing():
    """The canvas's image_data (what a page rendered from saved widget state draws: the docs site)
    is the diagram: each node's ring inside shows the colour the canvas was told to fill it with,
    and it follows a redraw.
    """
    import io

    from PIL import Image

    v = tg.preset_game("AND of players 1 and 2", 3)
    view = tg.LatticeView(v, mode="AND")

    def node_colours():
        im = Image.open(io.BytesIO(view.layer.image_data)).convert("RGBA")
        assert im.size == (view.canvas.width, view.canvas.height)
        s, r = view.scale, view.radius
        # left of the labels, inside the ring
        return [im.getpixel((round(s * (x - 0.7 * r)), round(s * y)))[:3]
                for _, (x, y) in sorted(view.positions.items())]

    def hexes():
        return [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in view.drawn_colors]

    assert node_colours() == hexes()
    assert len(set(hexes())) > 1  # a test that can fail: the AND game has coloured and white nodes
    view.mode = "value"
    assert node_colours() == hexes()


def test_view_redraws_on_game_mode_client_and_click():
    v = tg.preset_game("AND of players 1 and 2", 3)
    view = tg.LatticeView(v)
    assert view.drawn_values == v.tolist()
    view.mode = "AND"
    assert view.draw_count == 2
    assert view.drawn_values == pytest.approx(tg.and_interactions(v).tolist())
    view.mode_selector.value = "OR"  # the toggle buttons, as a click in the browser would
    assert view.draw_count == 3
    assert view.drawn_values == pytest.approx(tg.or_interactions(v).tolist())

    w = tg.preset_game("OR of players 1 and 2", 3)
    view.set_game(w)
    assert view.draw_count == 4
    assert view.drawn_values == pytest.approx(tg.or_interactions(w).tolist())
    assert torch.equal(view.game, w)

    # a front end connecting replays the drawing (drawing during execution can be lost)
    view.layer._handle_frontend_event(None, {"event": "client_ready"}, [])
    assert view.draw_count == 5

    x, y = view.positions[0b011]
    view.layer._handle_frontend_event(None, {"event": "mouse_down", "x": 2 * (x + 2), "y": 2 * y}, [])  # canvas px
    assert view.selected == 0b011 and view.draw_count == 6
    assert "{1,2}" in view.caption.value and "I_or(T)" in view.caption.value


def test_view_errors():
    with pytest.raises(ValueError, match="n ≤ 4"):
        tg.LatticeView(tg.preset_game("majority (at least 2 players)", 5))
    with pytest.raises(ValueError, match="n ≤ 4"):
        tg.lattice_positions(5)
    with pytest.raises(ValueError, match="mode"):
        tg.LatticeView(tg.preset_game("majority (at least 2 players)", 3), mode="XOR")
    view = tg.LatticeView(tg.preset_game("majority (at least 2 players)", 3))
    with pytest.raises(ValueError, match="3 players"):
        view.set_game(tg.preset_game("majority (at least 2 players)", 2))


def test_game_explorer_slider_redraws_lattice():
    box = tg.game_explorer(3, lattice=True)
    view = box.lattice
    before = view.draw_count
    report = box.children[-1].value
    sliders = box.children[1].children[2].children  # the |T| = 2 sliders: {1,2}, {1,3}, {2,3}
    sliders[0].value = 1.5
    assert view.draw_count == before + 1
    assert view.drawn_values[0b011] == pytest.approx(1.5)
    assert torch.equal(view.game, box.game())
    assert box.children[-1].value != report  # the table still follows the sliders
    box.children[0].children[0].value = "OR of players 1 and 2"  # a preset redraws once
    assert view.draw_count == before + 2
    assert view.drawn_values == pytest.approx(tg.preset_game("OR of players 1 and 2", 3).tolist())


def test_game_explorer_without_lattice_unchanged():
    box = tg.game_explorer(3)
    assert box.lattice is None and len(box.children) == 3


# ---------------------------------------------------------------------- the generator half
def test_removal_panel_deletes_components_and_answer_table(tiny_explainer):
    """The notebook's delete-a-component panel: a ticked component is removed from f_N (Eq. 7)
    and the picture shows g of what is left; the answer table compares with a known answer.
    """
    pytest.importorskip("anywidget")
    e = tiny_explainer.explain(0, patches=[1, 6, 11]).solve_all()
    top = e.components(top=3)
    panel = tg.removal_panel(e, top=3, labels={top[0].subset: "first"})
    assert panel.removed() == [] and "nothing deleted yet" in panel.pictures.items[1]["caption"]
    panel.checkboxes[0].value = True
    assert panel.removed() == [top[0].subset] and "first" in panel.checkboxes[0].description
    keep = torch.ones(e.num_subsets, dtype=torch.bool)
    keep[top[0].subset] = False
    want = e.render(e.reconstruct(keep)[e.full].unsqueeze(0))[0]
    assert torch.allclose(tg.without(e, [top[0].subset]), want)
    assert panel.pictures.items[1]["outline"] == e.subset_patches(top[0].subset)
    w, h = panel.pictures.width, panel.pictures.height
    assert len(panel.pictures.images) == 3 * w * h * 4
    # a known answer equal to the solver's own components: zero error, ranks 1..k, others listed
    answer = {c.subset: e.component(c.subset).clone() for c in top[:2]}
    rows = tg.compare_with_answer(e, answer, {top[0].subset: "a", top[1].subset: "b"})
    assert [r.rank for r in rows] == [1, 2] and all(r.rel_error < 1e-6 for r in rows)
    text = tg.answer_table(rows, e)
    assert text.splitlines()[1].startswith("a") and "every other component" in text
