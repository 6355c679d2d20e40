"""The per-subset row schema (``core.solver.rows``): one declaration that the solve's results, the
solve record, the cache parts, saved explanations and the results a cluster sends back all follow.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from prsg_widgets import Explainer, Explanation
from prsg_widgets.backend.persistence.filecheck import PART_FIELDS
from prsg_widgets.backend.persistence.files import read_npz
from prsg_widgets.backend.persistence.store import SolveRecord
from prsg_widgets.backend.remote import _result
from prsg_widgets.core.solver import SolveResult
from prsg_widgets.core.solver.rows import KEPT, ROWS, check_result_type


@pytest.fixture
def cached(tiny_generator, tmp_path):
    """An explainer with a cache folder whose every solver result is kept as the store got it."""
    ex = Explainer(tiny_generator, grid=4, solver="fast", iterations=60, progress=False, baseline_samples=16,
                   cache_dir=tmp_path)
    results: list[SolveResult] = []
    put = ex.store.put

    def keep(key, result, record=None):
        results.append(result)
        return put(key, result, record)

    ex.store.put = keep  # type: ignore[method-assign]
    yield ex, results
    ex.close()


def test_a_result_read_back_from_the_cache_keeps_every_field_sparsity_included(cached):
    """What ``Explainer(client=...)`` hands its scheduler (rows a worker wrote, read back from the
    cache) is the worker's result: the sparsity used to come back NaN.
    """
    ex, results = cached
    e = ex.explain(0, patches=[0, 5, 10])
    e.solve_all()
    solved = {int(s): (i, j) for i, r in enumerate(results) for j, s in enumerate(r.subsets.tolist())}
    rec = SolveRecord(e.n, e.feature.numel())  # a fresh record, filled from disk as run_on_cluster does
    ex.store.reload(e.key, rec)
    rows = sorted(solved)
    back = _result(rec, rows, e.baseline)
    assert back.subsets.tolist() == rows
    for f in ROWS:
        want = torch.stack([getattr(results[i], f.name)[j] for i, j in (solved[s] for s in rows)]).cpu()
        got = getattr(back, f.name)
        assert got.shape == want.shape, f.name
        assert not got.isnan().all(), f"{f.name} came back as NaN"
        torch.testing.assert_close(got.double(), want.double(), rtol=1e-4, atol=1e-6, equal_nan=True, msg=f.name)


def test_cache_parts_and_saved_files_hold_the_fields_the_schema_declares(cached, tmp_path):
    ex, _ = cached
    e = ex.explain(1, patches=[0, 5])
    e.solve_all()
    part = read_npz(next(ex.store.folder(e.key).glob("part-*.npz")))
    assert set(part) == {*PART_FIELDS, "key"} == {"subsets", "key", *(f.name for f in KEPT)}
    for f in KEPT:
        assert part[f.name].dtype == np.dtype(f.dtype), f.name
    saved = read_npz(e.save(tmp_path / "e.npz"))
    names = {f.saved for f in ROWS if f.saved}
    assert names <= set(saved) and "sparsity" not in saved  # sparsity is derived, never written
    for f in ROWS:
        if f.saved:
            assert saved[f.saved].dtype == np.dtype(f.dtype), f.name
            assert saved[f.saved].shape == f.shape(4, 2, e.feature.numel()), f.name
    back = Explanation.load(tmp_path / "e.npz")
    for f in KEPT:
        assert np.array_equal(getattr(back._record, f.name), getattr(e._record, f.name), equal_nan=True), f.name


def test_a_result_type_that_leaves_the_schema_is_refused_at_import():
    check_result_type(SolveResult)
    fields = [(f.name, f.type) for f in dataclasses.fields(SolveResult) if f.name != "sparsity"]
    with pytest.raises(TypeError, match="sparsity"):
        check_result_type(dataclasses.make_dataclass("Short", fields))


def test_the_record_takes_back_rows_to_their_fill_values():
    rec = SolveRecord(2, 3)
    values = {f.name: np.ones(f.shape(2, 2, 3), f.dtype) for f in KEPT}
    rec.write(np.array([1, 3]), values)
    assert rec.revision == 1 and rec.solved.tolist() == [False, True, False, True]
    rec.forget(np.array([3]))
    for f in KEPT:
        column = np.asarray(getattr(rec, f.name))
        assert np.array_equal(column[3], f.empty(1, 2, 3)[0], equal_nan=True), f.name
        assert np.array_equal(column[1], values[f.name][0]), f.name
    assert (rec.revision, rec.forgotten) == (2, 1)


def test_an_explanation_recomputes_its_components_when_rows_are_taken_back():
    """The components and norms an explanation derived are its own, dropped when the record changes."""
    rec = SolveRecord(1, 2)
    rec.write_exact(np.array([1]), torch.tensor([[1.0, 2.0]]))
    from prsg_widgets.backend.explanation_meta import ExplanationMeta
    from prsg_widgets.backend.sample import Sample

    meta = ExplanationMeta("m", "l", 1, (1, 1, 1), (0.0, 1.0), (2,))
    sample = Sample(None, torch.zeros(1), torch.zeros(1, 1, 1), torch.tensor([1.0, 2.0]))
    e = Explanation(rec, sample, [0], meta, torch.zeros(2), 0.1)
    assert e.component_array()[1].tolist() == [1.0, 2.0] and e.has_components
    assert e.ranking()[0].norm == pytest.approx(5 ** 0.5)
    rec.forget(np.array([1]))
    assert not e.has_components and e.ranking()[0].norm is None
    rec.write_exact(np.array([1]), torch.tensor([[3.0, 4.0]]))
    assert e.component_array()[1].tolist() == [3.0, 4.0] and e.ranking()[0].norm == pytest.approx(5.0)
