"""Issue 23: the dashboard's estimate — one text for the note and the confirm prompt, and a solved
result that is kept says so instead of estimating a solve (tiny model of ``tiny_model.py``).
"""
from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

from tiny_model import make_tiny_module  # noqa: E402

from prsg_widgets import Explainer, split_generator  # noqa: E402
from prsg_widgets.widgets import explore  # noqa: E402
from prsg_widgets.widgets._progress_line import countdown  # noqa: E402


@pytest.fixture(scope="module")
def nested():
    gen = split_generator(make_tiny_module(), "2", sample_codes=(4,), name="tiny")
    ex = Explainer(gen, grid=4, solver="interactive", iterations=150, progress=False, baseline_samples=64)
    yield ex
    ex.close()


def _when(html: str) -> str:
    return html.split("·")[-1].split("</div>")[0].strip() if "·" in html else html


def test_note_and_prompt_show_one_number_and_back_to_nested_says_kept(nested):
    d = explore(explainer=nested, seed=1, n=3, solve=True, confirm_above=4)
    try:
        d.wait(block=True, timeout=120)
        # the result the views show is solved: the note says it is kept, not an estimate of a solve
        d._update_estimate()
        assert "kept in memory, nothing to solve" in d.estimate_note.value and "≈" not in d.estimate_note.value
        assert not d._needs_confirm(d.estimate())
        # another selection: the confirm prompt and the note give the same time, from the same estimate
        d.selector.selected = [0, 5, 10, 15]
        d.explain_button.click()
        assert d.confirm_box.layout.display is None
        note, prompt = d.estimate_note.value, d.confirm_text.value
        when = d._when(d.estimate())
        assert when.startswith("≈") and when in note and when in prompt
        d.confirm_cancel.click()
        # independent re-solve, then back: the nested result is kept (its note says so, no "≈ 39 s")
        d.selector.selected = sorted(d.explanation.patches)
        d.resolve_independently(confirm=True)
        d.wait(block=True, timeout=120)
        d.nested_button.click()
        assert d.explainer.config.nested and d.explanation.is_complete
        assert "kept in memory, nothing to solve" in d.estimate_note.value, d.estimate_note.value
        assert "≈" not in d.estimate_note.value
    finally:
        for ex in d._solvers.values():
            if ex is not nested:
                ex.close()


def test_countdown_moves_every_five_seconds_below_twenty_minutes():
    texts = [countdown(s) for s in range(300, 60, -5)]
    assert len(set(texts)) == len(texts)  # no two 5-second steps read the same
    assert countdown(245) == "4 min 05 s" and countdown(42) == "42 s" and countdown(3600) == "60 min"
