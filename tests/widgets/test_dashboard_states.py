"""Issue 23 (dashboard part): every view is true to what it shows after ▶, after Cancel and in
independent mode; the health's advice depends on the mode that ran.  Python side, on the tiny
untrained generator (d = 128); the browser side is ``browser/test_dashboard_states_browser.py``.
"""
from __future__ import annotations

import dataclasses
import re
import time

import pytest

pytest.importorskip("anywidget")

from tiny_model import make_tiny_module  # noqa: E402

from prsg_widgets import Explainer, metrics, split_generator  # noqa: E402
from prsg_widgets.widgets import ComponentBrowser, SparsityCurve, TransferabilityPairer, explore  # noqa: E402


@pytest.fixture(scope="module")
def gen():
    return split_generator(make_tiny_module(), "2", sample_codes=(4,), name="tiny")


@pytest.fixture(scope="module")
def explainer(gen):
    ex = Explainer(gen, grid=4, solver="fast", iterations=150, progress=False, baseline_samples=64)
    yield ex
    ex.close()


def wait_until(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def _solve(views):
    for v in views:
        for f in list(v.futures):
            f.result(timeout=120)
        v.refresh()


# ------------------------------------------------------------------------------ ▶ and the pairer
def test_next_image_moves_image_b_too_and_never_pairs_an_image_with_itself(explainer):
    d = explore(explainer=explainer, seed=0, n=3)
    _solve(d.views)
    assert (d.explanation.sample.seed, d.pairer.explanation_b.sample.seed) == (0, 1)
    d.next_button.click()  # ▶: image a is seed 1, so image b must not stay on seed 1
    _solve(d.views)
    a, b = d.pairer.explanation_a, d.pairer.explanation_b
    assert a.sample.seed == 1 and b.sample.seed == 2 and d.pairer.view.label_b == "seed 2"
    ref = metrics.transferability(a, b, k_a=d.pairer.k_a, k_b=d.pairer.k_b)
    assert d.pairer.ratio == pytest.approx(ref.ratio)
    # the line counts each image once (a, b and the dense control of this independent solve)
    assert d.progress[1] == sum(e.num_subsets for e in d.line.explanations())
    # a seed b the user picked is kept while it is not image a
    d.pairer.seed_box.value = 5
    d.next_button.click()
    assert d.pairer.seed_b == 5 and d.explanation.sample.seed == 2
    d.seed_box.value = 5
    d.explain()  # image a becomes the user's seed b: image b moves on instead of repeating it
    assert d.pairer.seed_b == 6 and d.pairer.refusal == ""
    # asked for explicitly, an image against itself is refused with a note, not scored 100%
    d.pairer.seed_box.value = 5
    assert d.pairer.explanation_b is None and d.pairer.ratio is None and d.pairer.result is None
    assert "image a itself" in d.pairer.view.refusal and d.pairer.view.ratio == -1
    assert d.pairer._watched == [d.explanation]  # and image b is neither solved nor counted twice
    explainer.cancel()


def test_a_standalone_pairer_refuses_the_same_seed(explainer):
    p = TransferabilityPairer(explainer, seed_a=3, seed_b=3, patches=[1, 6, 11], solve=False)
    assert p.explanation_b is None and "seed b = 3 is image a itself" in p.refusal
    p.seed_b = 4
    assert p.refusal == "" and p.view.refusal == "" and p.explanation_b.sample.seed == 4


# ------------------------------------------------------------------------------ after Cancel
def _count(text):
    m = re.search(r"([\d,]+) of ([\d,]+) minimal features", text)
    assert m, text
    return int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))


def test_after_cancel_the_views_say_stopped_with_the_real_count(gen):
    slow = Explainer(gen, grid=4, solver="interactive", iterations=3000, lr=1e-7, restart=False,
                     progress=False, baseline_samples=64)
    try:
        d = explore(explainer=slow, seed=1, n=4)
        wait_until(lambda: d.explanation.progress[0] > 2)
        d.line.button.click()  # Cancel
        wait_until(lambda: not d.line.solving())
        for v in d.views:
            v.refresh()
        e = d.explanation
        done, total = e.progress
        assert done < total
        status = d.browser.recon_view.status
        assert "waiting" not in status and "stopped" in status and "Resume continues" in status
        assert _count(status) == (done, total)
        state = d.browser.gallery.drafts_state
        assert state == {"solved": done, "total": total, "state": "stopped"}
        assert len(d.browser.gallery.drafts) <= 24 and done > 0
        msg = d.curve.plot.message  # nested: no component is computable before the largest subsets
        assert "waiting" not in msg and "stopped" in msg
        want = sum(x.progress[0] for x in d.curve._all()), sum(x.progress[1] for x in d.curve._all())
        assert _count(msg) == want and "stopped" in d.curve.note.value
        assert all(s["state"] == "stopped" for s in d.curve.plot.series)
        d.line.button.click()  # Resume: they say "waiting" again, and it is true
        assert d.line.solving() and d.browser.recon_view.status.startswith("waiting for the solve")
        slow.cancel()
    finally:
        slow.close()


# ------------------------------------------------------------------------------ sparsity reading
def test_independent_sparsity_note_reads_the_plotted_curves_as_the_health_does(gen):
    nested = Explainer(gen, grid=4, solver="interactive", iterations=150, progress=False, baseline_samples=64)
    d = explore(explainer=nested, seed=1, n=3, solve=False, confirm_above=64)
    try:
        e = d.resolve_independently()
        e.solve_all()
        d.curve.control.solve_all()
        d.curve.refresh()
        h = e.health()
        assert h.control_mass_share is not None
        note = d.curve.note.value
        assert "fall faster" not in note  # the old, generic (and here misleading) claim
        label = e.sample.label
        # the same figures as the health, on the same curves as the plot
        assert f"{label}: 90% of its L1 mass lies in its largest {100 * h.mass_share:.2f}%" in note
        assert f"dense control: 90% of its L1 mass lies in its largest {100 * h.control_mass_share:.2f}%" in note
        verdict = "sparser than" if h.mass_share < h.control_mass_share else "NOT sparser than"
        assert f"components are {verdict} the random feature" in note
        series = {s["label"]: s for s in d.curve.plot.series}
        for lab, share in ((label, h.mass_share), ("dense control", h.control_mass_share)):
            s = series[lab]
            assert s["mass_rank"] == round(share * s["elements"]) and f"rank {s['mass_rank']:,}" in note
        # height and length are explained from the plotted curves themselves
        c, cc = d.curve.curves[label], d.curve.curves["dense control"]
        assert f"largest |value| {c[0]:.2e} vs {cc[0]:.2e}" in note
        nz, nzc = int((c != 0).sum()), int((cc != 0).sum())
        assert f"{nz:,} vs {nzc:,} non-zero elements" in note
        m = max(nz, nzc)  # where either curve is drawn
        above = (c[:m] > cc[:m]).mean()
        assert ("lies above" in note) == (above >= 0.9) and ("lies below" in note) == (above <= 0.1)
    finally:
        nested.close()
        d._solvers[False].close()


def test_sparsity_note_waits_for_complete_curves(explainer):
    e = explainer.explain(7, patches=[0, 5])
    c = SparsityCurve(e, solve=False)
    assert "once every curve is complete" in c.note.value and "90% of its L1 mass" not in c.note.value
    assert c.plot.message == "no component yet: not being solved — 2 of 8 minimal features solved"


# ------------------------------------------------------------------------------ health advice
def test_health_advice_depends_on_the_mode_that_ran(gen, explainer):
    nested = Explainer(gen, grid=4, solver="interactive", iterations=150, progress=False, baseline_samples=64)
    try:
        hn = nested.explain(0, patches=[1, 6, 11]).health()
        hi = explainer.explain(0, patches=[1, 6, 11]).health()
    finally:
        nested.close()
    assert hn.nested is True and hi.nested is False
    bad_n, bad_i = (dataclasses.replace(h, cancellation=5.0) for h in (hn, hi))
    cancel_n = next(w for w in bad_n.warnings() if "cancel each other" in w)
    cancel_i = next(w for w in bad_i.warnings() if "cancel each other" in w)
    assert "with nested solving" not in cancel_n and "already in use" in cancel_n
    assert "independent" in cancel_n
    assert "with nested solving (preset 'interactive')" in cancel_i
    unknown = dataclasses.replace(hi, cancellation=5.0, nested=None)
    assert "if it was not used" in next(w for w in unknown.warnings() if "cancel" in w)
    # the dense-control warning blames nested solving only where it ran
    sparse_ctrl = dataclasses.replace(hi, control_mass_share=hi.mass_share)
    assert "nested" not in next(w for w in sparse_ctrl.warnings() if "dense control" in w)
    # and the browser's header shows the advice of its own mode
    b = ComponentBrowser(explainer.explain(0, patches=[1, 6, 11]), solve=False)
    b.explanation.health = lambda: bad_i
    b.health = {}
    b.refresh()
    assert "with nested solving" in b.health_box.value


def test_the_other_solver_keeps_every_setting_but_the_solver(gen):
    """A bf16 dashboard's independent re-solve ran in fp32: the twin explainer was rebuilt field by
    field and left out precision, compile and channels_last (issue 25's first bug).
    """
    from prsg_widgets.widgets.dashboard import Dashboard

    with Explainer(gen, grid=4, solver="interactive", iterations=40, progress=False, baseline_samples=16,
                   precision="bf16", channels_last=True, max_patches=5, baseline_seed=3) as ex:
        d = Dashboard(ex, seed=0, n=2, solve=False)
        twin = d._solver(False)
        try:
            assert twin.config.nested is False and twin.config.iterations == 40
            assert twin.generator is ex.generator  # not loaded again
            for name in ("precision", "compile", "channels_last", "max_patches", "baseline_samples",
                         "baseline_seed", "grid", "cache_dir", "batch_size"):
                assert getattr(twin.settings, name) == getattr(ex.settings, name), name
        finally:
            twin.close()
