"""The store's files: checksummed write-once parts, merging that never loses rows, damaged parts
set aside one at a time, values checked on load, concurrent writers, and saved explanations that
check their metadata.
"""
from __future__ import annotations

import multiprocessing as mp
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from prsg_widgets import Explainer, Explanation
from prsg_widgets.backend.persistence.store import DamagedFile, Store, read_npz, write_npz
from prsg_widgets.core.solver import SolveResult

N, D = 3, 5


def _result(rows, value: float = 1.0) -> SolveResult:
    k = len(rows)
    feats = torch.full((k, D), value) + torch.arange(k).unsqueeze(1).float()
    member = (torch.as_tensor(rows).unsqueeze(1) >> torch.arange(N)) & 1 == 1
    pmse = torch.where(member, torch.zeros(k, N), torch.full((k, N), float("nan")))  # NaN outside T
    return SolveResult(torch.as_tensor(rows), feats, torch.zeros(k), pmse, torch.zeros(k),
                       torch.ones(k, dtype=torch.bool), torch.full((k,), 7), torch.zeros(k))


def _parts(store: Store, key: str) -> list[Path]:
    return sorted(store.folder(key).glob("part-*.npz"))


def test_parts_are_checksummed_and_a_flipped_byte_costs_only_its_own_rows(tmp_path):
    store = Store(tmp_path)
    store.record("k", N, D)
    store.put("k", _result([1, 2]))
    store.flush("k")
    store.put("k", _result([3, 4], value=3.0))
    store.flush("k")
    second = next(p for p in _parts(store, "k") if 3 in read_npz(p)["subsets"])
    raw = bytearray(second.read_bytes())
    raw[raw.index(np.float32(3.0).tobytes()) + 1] ^= 0x01  # a bit of f_T itself
    second.write_bytes(bytes(raw))
    with pytest.raises(DamagedFile):
        read_npz(second)
    fresh = Store(tmp_path)
    with pytest.warns(RuntimeWarning, match="could not be read"):
        rec = fresh.record("k", N, D)
    assert np.flatnonzero(rec.solved).tolist() == [1, 2]  # the other part survives
    assert len(list(fresh.folder("k").glob("*.corrupt"))) == 1


def test_merging_never_overwrites_more_with_less(tmp_path):
    fast, slow = Store(tmp_path), Store(tmp_path)  # two processes sharing one cache
    fast.record("k", N, D)
    slow.record("k", N, D)
    fast.put("k", _result(list(range(1, 8))))
    fast.flush("k")
    fast.compact("k")
    slow.put("k", _result([1, 2]))  # a slower run that finished less
    slow.flush("k")
    slow.compact("k")
    assert len(_parts(slow, "k")) == 1
    rec = Store(tmp_path).record("k", N, D)
    assert rec.solved[1:].all()


@pytest.mark.parametrize("bad", ["nan", "shape", "range"])
def test_values_are_checked_on_load(tmp_path, bad):
    store = Store(tmp_path)
    rec = store.record("k", N, D)
    arrays = rec.arrays(np.array([0]))
    arrays = {"subsets": np.array([1]), "features": np.ones((1, D), np.float32), "mse": np.zeros(1),
              "patch_mse": np.array([[0.0, np.nan, np.nan]]), "key": np.asarray("k"), "feasible": np.ones(1, bool),
              "iterations": np.ones(1, np.int64)}
    if bad == "nan":
        arrays["features"][0, 0] = np.nan
    elif bad == "shape":
        arrays["features"] = np.ones((1, D + 1), np.float32)
    else:
        arrays["subsets"] = np.array([1 << N])
    write_npz(store.folder("k") / "part-x.npz", arrays)  # a valid checksum over bad values
    with pytest.warns(RuntimeWarning, match="could not be read"):
        rec = Store(tmp_path).record("k", N, D)
    assert rec.solved.sum() == 0


def test_setting_aside_twice_is_harmless(tmp_path):
    path = tmp_path / "part-a.npz"
    path.write_bytes(b"junk")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Store._set_aside(path, ValueError("x"))
        Store._set_aside(path, ValueError("x"))  # a second process got there first: no error
    assert (tmp_path / "part-a.npz.corrupt").exists()


def _writer(directory: str, rows: list[int], rounds: int) -> None:
    store = Store(directory)
    store.record("k", N, D)
    for _ in range(rounds):
        store.put("k", _result(rows))
        store.flush("k")
        store.compact("k")


def test_concurrent_writers_keep_every_row(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), rows, 6)) for rows in ([1, 2, 3], [4, 5, 6, 7])]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing was damaged by the race
        rec = Store(tmp_path).record("k", N, D)
    assert rec.solved[1:].all()


def test_a_cache_dir_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        Store(f)


def test_record_rows_are_read_only_views(tiny_explainer):
    e = tiny_explainer.explain(3, patches=[0, 5])
    with pytest.raises(ValueError):
        e.mse[0] = 1.0  # an explanation's results cannot be changed from outside
    p = e.patches
    p.append(99)
    assert e.patches == [0, 5]


def test_saved_explanation_checks_its_metadata(tmp_path, tiny_generator, tiny_explainer):
    e = tiny_explainer.explain(4, patches=[0, 5]).solve_all()
    path = e.save(tmp_path / "e.npz", extra={"health_cancellation": 1.0})
    meta = Explanation.load(path).meta
    assert meta.model == tiny_generator.name and meta.grid == tiny_explainer.grid.size
    assert meta.seed == 4 and meta.version and meta.solver["iterations"] == tiny_explainer.config.iterations
    other = Explainer(tiny_generator, grid=2, progress=False, baseline_samples=64, iterations=60)
    with pytest.raises(ValueError, match="grid 4"):
        Explanation.load(path, explainer=other)
    with pytest.raises(ValueError, match="taken"):
        e.save(tmp_path / "f.npz", extra={"components": 1})


def test_records_outlive_the_recent_list_while_held_and_solves_never_lose_their_record(tmp_path):
    store = Store(tmp_path, max_records=2)
    held = store.record("a", N, D)
    for k in "bcd":
        store.record(k, N, D)
    assert store.record("a", N, D) is held  # still held by someone: the same record
    store.put("a", _result([1]), held)
    assert store.flush("a") == 1 and held.solved[1]


def test_an_explanation_of_given_features_does_not_solve(tiny_explainer):
    e = tiny_explainer.explain(5, patches=[0, 5])
    given = e.with_minimal_features({e.full: e.feature})
    assert given.minimal_feature(e.full).equal(e.feature.float())
    with pytest.raises(ValueError, match="cannot solve more"):
        given.minimal_feature([0])
    assert not e.is_solved(e.full)  # the explainer's own record is untouched
