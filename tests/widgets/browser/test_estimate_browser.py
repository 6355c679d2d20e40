"""Real-browser test of issue 23: after "Back to the nested result" the estimate note under the
grid says the result is kept (no estimate of a solve), and the confirm prompt shows the same time
as the note — checked on the words on screen, light and dark theme (toy-scenes, cheap layer).
"""
from __future__ import annotations

import pytest

pytest.importorskip("anywidget")

from harness import set_theme  # noqa: E402
from test_widgets_browser import SOLVE_TIMEOUT, _shot, _show  # noqa: E402


def test_note_after_back_to_nested_and_prompt_match(lab):
    code = ("nx = Explainer('toy-scenes', grid=4, cheap=True, solver='interactive', iterations=150, progress=False)\n"
            "d = explore(explainer=nx, n=3, seed=0, confirm_above=4)\nd")
    page, out, _ = _show(lab, code, "dash-estimate.ipynb", ".prsg-cb")
    lab.wait_for_python(page, "all(e.is_complete for e in d.line.explanations())", True, timeout=SOLVE_TIMEOUT)
    out.locator(".prsg-independent").click()
    out.locator(".prsg-confirm").click()  # 8 minimal features > confirm_above: it asks first
    lab.wait_for_python(page, "not d.explainer.config.nested and all(e.is_complete for e in d.line.explanations())",
                        True, timeout=SOLVE_TIMEOUT)
    out.locator(".prsg-nested").click()
    lab.wait_for_python(page, "d.explainer.config.nested", True)
    note = out.locator(".prsg-estimate")
    page.wait_for_function("() => /kept in memory/.test(document.querySelector('.prsg-estimate')?.textContent)",
                           timeout=30_000)
    assert "nothing to solve" in note.inner_text() and "≈" not in note.inner_text()
    _shot(lab, page, out, "estimate-kept-light")
    set_theme(page, light=False)
    _shot(lab, page, out, "estimate-kept-dark")
    set_theme(page, light=True)
    # another selection: the prompt's time is the note's
    lab.run_code(page, "d.selector.selected = [0, 5, 10, 15]")
    out.locator(".prsg-explain").click()
    out.locator(".prsg-confirm-text").wait_for(state="visible")
    time_text = lab.eval_python(page, "d._when(d.estimate())")
    assert time_text.startswith("≈")
    assert time_text in out.locator(".prsg-estimate").inner_text()
    assert time_text in out.locator(".prsg-confirm-text").inner_text()
    _shot(lab, page, out, "estimate-prompt-light")
    out.locator(".prsg-confirm-cancel").click()
