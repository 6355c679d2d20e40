"""The teaching notebook states only what its numbers show.

Its sentences about deleting a planted component are held against colours measured on the rendered
pictures; its regional patterns and its removal panel are checked to use one sign; the health
warning must sit beside ρ when cancellation is above the threshold; its matplotlib figures must be
2× PNGs on a transparent background.  The notebook checks read ``notebooks/teaching_interactions``
as committed (sources and stored outputs), so stale text or outputs fail here.
"""
from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
from pathlib import Path

import pytest
import torch

from prsg_widgets import teaching as tg
from prsg_widgets.core.health import CANCELLATION_WARN

NB = Path(__file__).resolve().parents[2] / "notebooks" / "teaching_interactions.ipynb"


def _cells() -> list[dict]:
    return json.loads(NB.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def _text_outputs(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append("".join(out["text"]) if isinstance(out["text"], list) else out["text"])
        for mime in ("text/markdown", "text/plain"):
            data = out.get("data", {}).get(mime)
            if data is not None:
                parts.append("".join(data) if isinstance(data, list) else data)
    return "\n".join(parts)


def _parameter(name: str) -> int:
    params = next(_source(c) for c in _cells() if "parameters" in c.get("metadata", {}).get("tags", []))
    return int(re.search(rf"^{name}\s*=\s*(\d+)", params, re.M).group(1))


@pytest.fixture(scope="module")
def planted():
    """The notebook's planted explanation (its own parameters), its known components and the
    measured deletion effects, as §4–§5 compute them.
    """
    from prsg_widgets import Explainer
    from prsg_widgets.models.planted import OBJECTS, object_patches, planted_answer

    ex = Explainer("toy-planted", grid=6, solver="interactive", progress=False)
    e = ex.explain(_parameter("PLANTED_SEED"), patches="foreground", n=_parameter("PLANTED_N"))
    e.solve_all()
    names = {sum(1 << i for i in bits): OBJECTS[k].name for k, bits in enumerate(object_patches(e.patches)) if bits}
    rows = tg.compare_with_answer(e, planted_answer(e), names)
    regions = {o.name: e.grid.mask(o.patch_ids()) for o in OBJECTS}
    effects = tg.deletion_effects(e, {r.subset: r.name for r in rows}, regions)
    yield e, rows, names, effects
    ex.close()


# ---------------------------------------------------------------- sentences against measured colours
# A claim the notebook may make about deleted objects → the measurement that must back it.
CLAIMS = {
    r"fad\w*\s+(?:back\s+)?to\s+the\s+background": lambda fx: all(e.becomes_background for e in fx),
    r"disappear|vanish|removes\s+its\s+object": lambda fx: all(e.becomes_background for e in fx),
    r"the\s+way\s+the\s+baseline\s+image": lambda fx: all(e.becomes_baseline for e in fx),
    r"nothing\s+else\s+moves": lambda fx: all(e.on_object >= 0.999 for e in fx),
    r"dim\s+in\s+this\s+scene\s+therefore\s+gets\s+\*stronger\*": lambda fx: all(
        e.stronger == (_strength(e, e.before) < _strength(e, e.baseline)) for e in fx),
}


def _strength(e, rgb) -> float:
    """How far a colour stands out from the background."""
    return sum((a - b) ** 2 for a, b in zip(rgb, e.background, strict=True)) ** 0.5


def test_deletion_sentences_match_measured_colours(planted):
    _, _, _, effects = planted
    text = "\n".join(_source(c) + "\n" + _text_outputs(c) for c in _cells())
    found = [pattern for pattern in CLAIMS if re.search(pattern, text, re.I)]
    assert found, "the notebook no longer says what a deleted object turns into"
    wrong = [pattern for pattern in found if not CLAIMS[pattern](effects)]
    assert not wrong, ("the notebook claims what the measured colours contradict: "
                       + "; ".join(wrong) + "\n" + "\n".join(e.sentence() for e in effects))


def test_measured_colours_of_the_planted_scene(planted):
    """What the numbers show (the tester's reading): every object goes to its colour in g(b), none
    to the background; the tree turns green and stronger, the house stronger, the sun weaker.
    """
    _, _, _, effects = planted
    by = {e.name: e for e in effects}
    assert all(e.becomes_baseline and not e.becomes_background for e in effects)
    assert tg.colour_name(by["tree"].after).endswith("green") and by["tree"].stronger
    assert by["house"].stronger and not by["sun"].stronger
    summary = tg.deletion_summary(effects)
    assert f"{len(effects)} of {len(effects)}" in summary and "0 of" in summary and "Nothing else moves" in summary


def test_notebook_prints_the_measured_sentences(planted):
    _, _, _, effects = planted
    outputs = "\n".join(_text_outputs(c) for c in _cells())
    for e in effects:
        assert e.sentence() in outputs, f"stale or missing output: {e.sentence()}"
    assert outputs.count(tg.deletion_summary(effects)) >= 2  # §5 and the summary


def test_colour_name():
    assert tg.colour_name((-0.55, 0.21, -0.50)) == "green"
    assert tg.colour_name((1.0, -1.0, -1.0)) == "bright red"
    assert tg.colour_name((-0.4, -0.4, -0.4)) == "dark grey"
    assert tg.colour_name((1.0, 1.0, 1.0)) == "white"
    assert tg.colour_name((0.4, -1.0, 0.4)) == "magenta"


def test_deletion_effects_errors(planted):
    e, rows, _, _ = planted
    with pytest.raises(ValueError, match="no region"):
        tg.deletion_effects(e, {rows[0].subset: "moon"}, {"tree": e.grid.mask([0])})
    with pytest.raises(ValueError, match="whole image"):
        tg.deletion_effects(e, {rows[0].subset: "all"}, {"all": e.grid.mask(list(range(36)))})


# ---------------------------------------------------------------- one sign convention
def test_regional_patterns_and_removal_panel_share_one_sign(planted):
    pytest.importorskip("anywidget")
    from prsg_widgets.widgets._images import decode_rgba

    e, rows, names, _ = planted
    row = tg.regional_pattern_row(e, rows)
    panel = tg.removal_panel(e, top=6, labels=names)
    tree = next(i for i, r in enumerate(rows) if r.name == "tree")
    box = next(b for b in panel.checkboxes if "tree" in b.description)
    box.value = True  # as a click would
    w, h = panel.pictures.width, panel.pictures.height
    shown = decode_rgba(panel.pictures.images[2 * w * h * 4:], w, h).astype(int)
    pattern = decode_rgba(row.images[(1 + tree) * w * h * 4:(2 + tree) * w * h * 4], w, h).astype(int)
    assert abs(shown - pattern).max() <= 1  # the same picture, hence the same sign
    # the tree is dimmer in f_N than in g(b): its Δx takes green away, drawn magenta in both
    m = e.grid.mask([p for p in rows[tree].patches]).numpy()
    assert shown[m, 1].mean() < 100 and shown[m, 0].mean() > 128 and pattern[m, 1].mean() < 100
    assert torch.allclose(tg.deletion_change(e, [rows[tree].subset]), e.regional_pattern(rows[tree].subset), atol=1e-5)
    assert tg.SIGN_LEGEND in row.note and tg.SIGN_LEGEND in panel.pictures.note
    assert "took away" in panel.pictures.items[2]["caption"]


def test_notebook_uses_the_shared_pattern_row():
    src = "\n".join(_source(c) for c in _cells())
    assert "tg.regional_pattern_row(" in src and "tg.removal_panel(" in src


# ---------------------------------------------------------------- health beside ρ
def test_health_note_follows_the_threshold(planted):
    e, _, _, _ = planted
    health = e.health()
    assert health.cancellation <= CANCELLATION_WARN and tg.health_note(health) == ""
    bad = dataclasses.replace(health, cancellation=CANCELLATION_WARN + 1.26)
    note = tg.health_note(bad)
    assert "cancel" in note and f"{CANCELLATION_WARN + 1.26:.1f}×" in note and "not trustworthy" in note


def test_notebook_prints_the_warning_where_rho_is_reported():
    cells = _cells()
    outputs = [_text_outputs(c) for c in cells]
    scene = next(o for o in outputs if "minimal features in" in o and "cancellation" in o and "layer" in o)
    cancellation = float(re.search(r"cancellation ([0-9.]+) \(1 = none", scene).group(1))
    table = next(o for o in outputs if "objects in A(S)" in o)
    summary = next(o for o in outputs if "What this run shows" not in o and "ρ = " in o and "chance" in o)
    warned = "components cancel each other" in summary
    assert warned == (cancellation > CANCELLATION_WARN), (cancellation, summary)
    assert ("components cancel each other" in scene) == warned
    assert ("components cancel each other" in table) == warned


# ---------------------------------------------------------------- figures: 2x, theme-neutral
def test_figures_are_theme_neutral(planted):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    e, _, _, _ = planted
    masks = torch.stack([e.grid.mask([p]) for p in e.patches[:2]])
    overlaps = tg.object_overlaps(e, masks, top=2)
    fig = tg.show_components(e, overlaps, masks, ["a", "b"])
    ax = tg.show_scene(e, masks)
    for f in (fig, ax.figure):
        assert f.patch.get_alpha() == 0.0
        assert all(a.title.get_color() == tg.FIGURE_TEXT for a in f.axes if a.get_title())
        plt.close(f)


def test_notebook_figures_are_2x_and_transparent():
    from PIL import Image

    images = [(out["data"]["image/png"], out.get("metadata", {}).get("image/png", {}))
              for c in _cells() for out in c.get("outputs", []) if "image/png" in out.get("data", {})]
    assert len(images) >= 2, "the notebook's matplotlib figures are missing from its outputs"
    for data, meta in images:
        png = Image.open(io.BytesIO(base64.b64decode(data)))
        assert meta.get("width") and png.width >= 2 * meta["width"] - 1, "not rendered at 2x"
        assert png.mode == "RGBA" and png.getpixel((0, 0))[3] == 0, "a white box in the dark theme"
