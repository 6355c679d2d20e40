import numpy as np
import pytest
import torch

from prsg_widgets import Explainer, Explanation
from prsg_widgets.core import harsanyi
from prsg_widgets.core.solver import SolveInterrupted


def test_component_solves_only_what_it_needs(tiny_explainer):
    e = tiny_explainer.explain(1, patches=[0, 5, 10, 15])
    assert e.progress == (1, 16)  # only f_∅ = b, nothing solved yet
    c = e.component([5])  # I({5}) needs f_N and f_{N∖{5}}
    assert sorted(e.solved_subsets()) == sorted([0, e.full, e.full ^ 0b10])
    e.solve_all()
    torch.testing.assert_close(c, e.component_array()[0b10], rtol=1e-4, atol=1e-5)


def test_explanation_identities(tiny_explainer):
    e = tiny_explainer.explain(2, patches=[0, 6, 9]).solve_all()
    F = e.minimal_features()
    assert torch.equal(F[0], e.baseline)
    comps = e.component_array()
    assert torch.all(comps[0] == 0)
    torch.testing.assert_close(e.baseline + comps.sum(0), F[-1], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(e.reconstruct(), F, rtol=1e-5, atol=1e-5)
    naive = harsanyi.naive_or_interactions((F - e.baseline).double()).float()
    torch.testing.assert_close(comps, naive, rtol=1e-5, atol=1e-5)


def test_components_sorted_and_filtered(tiny_explainer):
    e = tiny_explainer.explain(3, patches=[1, 4, 14]).solve_all()
    comps = e.components()
    norms = [c.norm for c in comps]
    assert norms == sorted(norms, reverse=True) and len(comps) == 7
    assert all(c.order == 2 for c in e.components(order=2))
    assert all(4 in c.patches for c in e.components(covering=[4]))
    assert len(e.components(top=2)) == 2


def test_regional_pattern_definition(tiny_explainer):
    e = tiny_explainer.explain(4, patches=[2, 7]).solve_all()
    f_n = e.minimal_feature(e.full)
    expected = e.render(f_n[None])[0] - e.render((f_n - e.component([7]))[None])[0]
    torch.testing.assert_close(e.regional_pattern([7]), expected)


def test_submit_is_non_blocking_and_reports_progress(tiny_explainer):
    e = tiny_explainer.explain(5, patches=[0, 3, 12])
    seen, landed = [], []
    e.on_update(lambda expl, rows: landed.extend(rows))
    fut = e.submit(on_progress=lambda done, total: seen.append((done, total)))
    assert fut.result(timeout=120) is e
    assert e.is_complete
    assert seen[-1] == (8, 8)
    assert sorted(landed) == list(range(1, 8))
    assert e.submit().done()  # nothing left to do


def test_a_waiting_solve_runs_in_the_calling_thread_and_others_still_queue(tiny_explainer):
    """``solve`` solves in its own thread when nothing runs (a worker thread was 25-40% slower on
    2 cores); a request from another thread meanwhile is queued and served, and ``wait_idle``
    from that thread waits for the whole queue.
    """
    import threading

    ex = tiny_explainer
    e, other = ex.explain(11, patches=[0, 3, 12]), ex.explain(12, patches=[1, 6])
    threads, late = set(), {}
    tail = ex.generator.tail

    def spy(*args, **kwargs):
        threads.add(threading.current_thread())
        if "fut" not in late:  # a widget's request arriving while the solve runs
            late["fut"] = other.submit()
            late["idle"] = threading.Thread(target=lambda: late.setdefault("waited", ex.scheduler.wait_idle(60)))
            late["idle"].start()
        return tail(*args, **kwargs)

    ex.generator.tail = spy
    try:
        assert e.solve_all() is e and e.is_complete
    finally:
        del ex.generator.tail
    assert threads == {threading.current_thread()}
    assert late["fut"].result(timeout=60) is other and other.is_complete  # served by the same run
    late["idle"].join(60)
    assert late["waited"] is True and ex.scheduler.wait_idle(0)


def test_explain_accepts_seed_and_foreground(tiny_explainer):
    e = tiny_explainer.explain(0, n=3)
    assert len(e.patches) == 3 and e.sample.seed == 0


def test_disk_cache_resumes(tmp_path, tiny_generator):
    ex = Explainer(tiny_generator, grid=4, solver="fast", iterations=60, progress=False, baseline_samples=64,
                    cache_dir=tmp_path)
    e = ex.explain(6, patches=[0, 5, 10])  # independent: {0, 5} alone needs no nested parts
    e.minimal_feature([0, 5])
    folders = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(folders) == 1 and len(list(folders[0].glob("part-*.npz"))) == 1  # one key, one part
    ex2 = Explainer(tiny_generator, grid=4, solver="fast", iterations=60, progress=False, baseline_samples=64,
                    cache_dir=tmp_path)
    e2 = ex2.explain(6, patches=[0, 5, 10])
    assert e2.progress[0] == 2  # ∅ and {0, 5} come from disk
    torch.testing.assert_close(e2.minimal_feature([0, 5]), e.minimal_feature([0, 5]))
    # a different solver setting is a different key
    ex3 = Explainer(tiny_generator, grid=4, solver="fast", iterations=61, progress=False, baseline_samples=64,
                    cache_dir=tmp_path)
    assert ex3.explain(6, patches=[0, 5, 10]).progress[0] == 1


def test_corrupt_cache_file_is_moved_aside(tmp_path, tiny_generator):
    ex = Explainer(tiny_generator, grid=4, iterations=30, progress=False, baseline_samples=64, cache_dir=tmp_path)
    e = ex.explain(7, patches=[0, 5]).solve_all()
    (path,) = ex.store.folder(e.key).glob("part-*.npz")
    path.write_bytes(b"this is not an npz file")
    fresh = Explainer(tiny_generator, grid=4, iterations=30, progress=False, baseline_samples=64, cache_dir=tmp_path)
    with pytest.warns(RuntimeWarning, match="could not be read"):
        e2 = fresh.explain(7, patches=[0, 5])
    assert path.with_name(path.name + ".corrupt").exists()
    assert e2.progress[0] == 1
    e2.solve_all()
    assert e2.is_complete


def test_cancel_keeps_finished_work(tiny_generator):
    ex = Explainer(tiny_generator, grid=4, iterations=100000, early_stop=False, batch_size=1,
                   progress=False, baseline_samples=64)
    e = ex.explain(8, patches=[0, 5, 10])
    fut = e.submit()
    ex.cancel()
    with pytest.raises(SolveInterrupted):
        fut.result(timeout=60)
    assert e.progress[0] >= 1 and not e.is_complete


def test_save_load_round_trip(tmp_path, tiny_explainer):
    e = tiny_explainer.explain(9, patches=[3, 6]).solve_all()
    path = e.save(tmp_path / "e.npz")
    loaded = Explanation.load(path)
    assert loaded.patches == e.patches
    assert torch.equal(loaded.minimal_features(), e.minimal_features())
    assert torch.equal(loaded.component_array(), e.component_array())
    np.testing.assert_array_equal(loaded.mse, e.mse)
    with pytest.raises(RuntimeError, match="explainer="):
        loaded.regional_pattern([3])
    again = Explanation.load(path, explainer=tiny_explainer)
    torch.testing.assert_close(again.regional_pattern([3]), e.regional_pattern([3]))


def test_load_of_a_bad_file_says_what_to_do(tmp_path):
    p = tmp_path / "x.npz"
    p.write_text("nope")
    with pytest.raises(ValueError, match="Explanation.save"):
        Explanation.load(p)


def test_bad_subsets(tiny_explainer):
    e = tiny_explainer.explain(1, patches=[0, 5])
    with pytest.raises(ValueError, match="out of range"):
        e.minimal_feature(4)
    with pytest.raises(ValueError, match="not one of the selected"):
        e.minimal_feature([6])


def test_baseline_is_cached_on_disk(tmp_path, tiny_generator):
    ex = Explainer(tiny_generator, grid=4, progress=False, baseline_samples=64, cache_dir=tmp_path)
    files = list(tmp_path.glob("baseline-*.npz"))
    assert len(files) == 1
    tiny_generator._baselines.clear()  # a new session: only the disk copy is left
    again = Explainer(tiny_generator, grid=4, progress=False, baseline_samples=64, cache_dir=tmp_path)
    assert torch.equal(again.baseline, ex.baseline)
    assert not tiny_generator._baselines  # read from disk, not recomputed
    files[0].write_bytes(b"garbage")
    with pytest.warns(RuntimeWarning, match="could not be read"):
        fresh = Explainer(tiny_generator, grid=4, progress=False, baseline_samples=64, cache_dir=tmp_path)
    torch.testing.assert_close(fresh.baseline, ex.baseline)


def test_cache_key_changes_with_the_solver_settings(tiny_generator):
    keys = set()
    for kw in ({}, {"nested": True}, {"init": 1.0}, {"constraint": "mean"}, {"restart": False}):
        ex = Explainer(tiny_generator, grid=4, solver="fast", progress=False, baseline_samples=64, **kw)
        s = ex.sample(0)
        keys.add(ex.cache_key(s, [0, 5]))
    assert len(keys) == 5


def test_nested_explainer_solves_what_a_component_needs(tiny_generator):
    ex = Explainer(tiny_generator, grid=4, solver="interactive", iterations=150, progress=False,
                   baseline_samples=64)
    e = ex.explain(0, patches=[0, 5, 10])
    c = e.component([0])  # needs f_{N∖L}, L ⊆ {0}: nested solving fills every subset below them
    assert e.is_complete and torch.isfinite(c).all()
    assert e.feasible.all() and np.isnan(e.patch_mse[0]).all()
    assert (e.max_patch_mse[1:] <= e.epsilon).all()
    ex.close()


def test_health_reports_the_dense_control_once_solved(tiny_explainer):
    from prsg_widgets import metrics

    e = tiny_explainer.explain(0, patches=[0, 5, 10]).solve_all()
    h = e.health()
    assert h.control_mass_share is None and h.subsets == 7 and h.k == 2
    assert h.cancellation >= 1.0 - 1e-9 and 0 < h.mass_share < 1
    ctrl = metrics.dense_control(tiny_explainer, e).solve_all()
    h2 = e.health()
    assert e.control is ctrl and h2.control_mass_share is not None
    assert h2.as_dict()["cancellation"] == pytest.approx(h.cancellation)
    assert "dense control" in h2.summary()


def test_a_failing_listener_does_not_stop_the_solve(tiny_explainer, caplog):
    e = tiny_explainer.explain(11, patches=[0, 5])

    def broken(expl, rows):
        raise RuntimeError("a view's bug")

    e.on_update(broken)
    e.solve_all()
    assert e.is_complete and "a listener" in caplog.text
