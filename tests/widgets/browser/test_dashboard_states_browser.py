"""Real-browser tests of issue 23 (dashboard part): after ▶ the pairer compares two different
images and its ratio on screen is the Python one; after Cancel the reconstruction, the sparsity
plot and the picture strip say the solve stopped, with the solved count Python holds.

Same harness and model as ``test_widgets_browser.py`` (toy-scenes, cheap layer); light and dark
screenshots go to the artifacts folder.
"""
from __future__ import annotations

import re

import harness
import pytest

pytest.importorskip("anywidget")

from test_widgets_browser import SOLVE_TIMEOUT, _shot, _show, _wait_attr  # noqa: E402


def _ratio_ready(page, label_a: str, label_b: str) -> None:
    page.wait_for_function(
        "([a, b]) => { const r = document.querySelector('.prsg-pairview');"
        " return !!r && r.dataset.labelA === a && r.dataset.labelB === b && r.dataset.ratio !== ''; }",
        arg=[label_a, label_b], timeout=SOLVE_TIMEOUT * 1000)


def test_next_image_pairs_two_different_images_and_shows_the_python_ratio(lab):
    page, out, _ = _show(lab, "d = explore(explainer=ex, n=3, seed=0)\nd", "dash-next.ipynb", ".prsg-pairview")
    _ratio_ready(page, "seed 0", "seed 1")
    out.locator(".prsg-next").click()
    lab.wait_for_python(page, "d.explanation.sample.seed", 1)
    _ratio_ready(page, "seed 1", "seed 2")  # image b followed: never seed 1 against itself
    pair = out.locator(".prsg-pairview")
    text = pair.locator(".prsg-ratio").inner_text()
    m = re.search(r"= (\d+) / (\d+) = ([\d.]+)%", text)
    assert m, text
    ratio = lab.eval_python(page, "d.pairer.ratio")
    matched = lab.eval_python(page, "len(d.pairer.result.matched)")
    k_a = lab.eval_python(page, "d.pairer.result.k_a")
    assert (int(m.group(1)), int(m.group(2))) == (matched, k_a)
    assert float(m.group(3)) == pytest.approx(100 * ratio, abs=0.05)
    assert lab.eval_python(page, "[e.sample.seed for e in d.pairer._watched]") == [1, 2]
    # asking for image a as image b: refused on screen, no ratio
    box = out.locator(".prsg-seed-b input")
    box.fill("1")
    box.press("Enter")
    page.wait_for_function("() => /image a itself/.test(document.querySelector('.prsg-pairview').dataset.refusal)",
                           timeout=15_000)
    assert pair.get_attribute("data-ratio") == ""
    assert "image a itself" in pair.locator(".prsg-ratio").inner_text()
    assert lab.eval_python(page, "d.pairer.ratio") is None
    _shot(lab, page, pair, "pairer-refused-light")
    harness.set_theme(page, light=False)
    lab.screenshot(page, "pairer-refused-dark", locator=pair)
    harness.set_theme(page, light=True)


def _count(text: str) -> tuple[int, int]:
    m = re.search(r"([\d,]+) of ([\d,]+) minimal features", text)
    assert m, text
    return int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))


def test_after_cancel_the_views_say_stopped_with_the_python_count(lab):
    code = ("slow = Explainer('toy-scenes', grid=4, cheap=True, solver='interactive', iterations=2000, lr=1e-7,"
            " restart=False, progress=False)\n"
            "d = explore(explainer=slow, n=4, seed=0)\nd")
    page, out, _ = _show(lab, code, "dash-cancel-states.ipynb", ".prsg-cb")
    lab.wait_for_python(page, "d.explanation.progress[0] > 2", True, timeout=SOLVE_TIMEOUT)
    line = out.locator(".prsg-dashboard > .prsg-progress-line")
    line.locator(".prsg-cancel", has_text="Cancel").click()
    lab.wait_for_python(page, "all(v.error is not None for v in d.views)", True, timeout=SOLVE_TIMEOUT)
    _wait_attr(page, ".prsg-cb", "data-drafts-state", "stopped")
    done, total = lab.eval_python(page, "list(d.explanation.progress)")
    assert done < total
    # the strip: every minimal feature solved, not the tiles drawn
    strip = out.locator(".prsg-drafts-note").inner_text()
    assert "stopped" in strip and _count(strip) == (done, total), strip
    assert out.locator(".prsg-cb").get_attribute("data-drafts-solved") == str(done)
    # the reconstruction: stopped, with the count, and Resume
    rec = out.locator(".prsg-rec")
    _wait_attr(page, ".prsg-rec", "data-status", lab.eval_python(page, "d.browser.recon_view.status"))
    status = rec.get_attribute("data-status")
    assert "waiting" not in status and "Resume continues" in status and _count(status) == (done, total)
    assert status in rec.locator(".prsg-rec-text").inner_text()
    # the sparsity plot (nested: no component computable yet): stopped, with its explanations' count
    sp = out.locator(".prsg-sparsity")
    want = lab.eval_python(page, "[sum(e.progress[i] for e in d.curve._all()) for i in (0, 1)]")
    page.wait_for_function("() => /stopped/.test(document.querySelector('.prsg-sparsity').dataset.message || '')",
                           timeout=15_000)
    msg = sp.get_attribute("data-message")
    assert "waiting" not in msg and list(_count(msg)) == want
    assert "stopped" in out.locator(".prsg-sparsity-note").inner_text()
    _shot(lab, page, out, "dashboard-after-cancel-light")
    harness.set_theme(page, light=False)
    lab.screenshot(page, "dashboard-after-cancel-dark", locator=out)
    harness.set_theme(page, light=True)
    lab.run_code(page, "slow.cancel()")
