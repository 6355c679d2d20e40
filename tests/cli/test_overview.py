"""``prsg explain``'s overview.png explains itself (issue 23): a legend for the boxes and the
numbers on the tiles, the explanation's health (the lines ``Health.summary()`` prints, computed)
and the solver preset.  The figure object is checked, not pixels.
"""
from __future__ import annotations

import pytest
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from prsg_widgets import figures, palette
from prsg_widgets.cli import main


@pytest.fixture
def overview(tmp_path, monkeypatch, capsys):
    """Run ``prsg explain`` and keep the figure it saved as overview.png."""
    made = []

    def keep(*args, **kwargs):
        fig = build(*args, **kwargs)
        made.append(fig)
        return fig

    build = figures.overview_figure
    monkeypatch.setattr(figures, "overview_figure", keep)
    rc = main(["explain", "--model", "toy-scenes", "--cheap", "--grid", "4", "--n", "3", "--preset", "tiny",
               "--seed", "1", "--top", "4", "--out", str(tmp_path)])
    assert rc == 0 and (tmp_path / "overview.png").stat().st_size > 1000 and len(made) == 1
    return made[0], capsys.readouterr().out


def test_overview_has_a_legend_the_health_and_the_preset(overview):
    fig, out = overview
    words = " ".join(" ".join(t.get_text() for t in fig.findobj(Text)).split())  # lines may wrap
    # the boxes: what blue and magenta mean, in the colours drawn
    (legend,) = fig.legends
    keys = {h.get_label(): h.get_edgecolor() for h in legend.legend_handles if isinstance(h, Rectangle)}
    assert set(keys) == {"patches N (ids written in them)", "action field A(S) of the component"}
    assert [tuple(round(v, 3) for v in c) for c in keys.values()] == [
        tuple(round(int(h[i:i + 2], 16) / 255, 3) for i in (1, 3, 5)) + (1.0,)
        for h in (palette.SELECTED, palette.ACTION_FIELD)]
    # the numbers: ranks, norms and how many of how many
    assert "ranked by its L2 norm ‖I‖₂" in words and "shown: 4 of the 7 components" in words
    assert "≈ 0: " + palette.negligible_words() in words
    # the health, as the command printed it (computed by the same Health object, not copied)
    printed = out.split("health:\n", 1)[1]
    lines = [" ".join(ln.split()) for ln in printed.splitlines() if ln.strip()]
    assert len(lines) >= 4
    for line in lines:
        assert "health: " + line in words, line
    assert "solver 'tiny': independent, per patch ≤ ε" in words
    assert "toy-scenes · seed 1 · N = {" in words
