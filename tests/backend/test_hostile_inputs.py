"""Hostile input to the backend (issue 24): the file check's iteration bound is the solver's own
(``SolverConfig.max_steps``), so a row the solver can legitimately record is never set aside as
damaged; a bad file's error never repeats numpy's ``allow_pickle`` advice; an explanation too large
for the memory is refused with the figure before anything is allocated.
"""
from __future__ import annotations

import numpy as np
import pytest

from prsg_widgets.backend.persistence.filecheck import PartContext, check_rows
from prsg_widgets.backend.persistence.files import DamagedFile
from prsg_widgets.core.solver import PRESETS


def _row(iterations: int, d: int = 3) -> dict:
    """One solved, feasible row of subset {0} (n = 1) with ``iterations`` steps."""
    return {"features": np.full((1, d), 0.5, np.float32), "mse": np.array([1e-4], np.float32),
            "patch_mse": np.array([[1e-4]], np.float32), "feasible": np.array([True]),
            "iterations": np.array([iterations], np.int64)}


def _context(solver: dict) -> PartContext:
    return PartContext.of(np.ones(3), np.zeros(3), 1e-3, (-1.0, 1.0), solver)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_a_rescued_then_polished_row_passes_the_file_check(preset):
    config = PRESETS[preset]
    # a subset rescued at the end of its first budget, then given a fresh one, then polished
    longest = (2 if config.restart else 1) * config.iterations + config.polish + 1
    ctx = _context(config.as_dict())
    assert ctx.max_iterations == config.max_steps >= longest
    check_rows(_row(longest), np.array([1]), 1, 3, ctx)
    with pytest.raises(DamagedFile, match="iterations"):
        check_rows(_row(config.max_steps + 1), np.array([1]), 1, 3, ctx)


def test_interactive_rows_of_621_steps_are_good():
    # the case that was set aside: 2 * 300 + 20 + 1 > 2 * 300 + 2
    check_rows(_row(621), np.array([1]), 1, 3, _context(PRESETS["interactive"].as_dict()))


def test_an_mse_outside_its_patches_mses_is_refused():
    """A row's ``mse`` is the pixel-weighted mean of its patches' mse: zeroing it (a file edit the
    other checks let through, found by tests/core/test_fuzz.py) is refused; a mean is accepted.
    """
    two = {"features": np.full((1, 3), 0.5, np.float32), "mse": np.array([2e-4]),
           "patch_mse": np.array([[1e-4, 4e-4]]), "feasible": np.array([True]), "iterations": np.array([5])}
    ctx = _context({})
    check_rows(two, np.array([3]), 2, 3, ctx)
    for wrong in (0.0, 0.99e-4, 4.01e-4):
        with pytest.raises(DamagedFile, match="'mse' is not within its subset's patch_mse"):
            check_rows({**two, "mse": np.array([wrong])}, np.array([3]), 2, 3, ctx)
    check_rows({**_row(0), "mse": np.array([0.0]), "patch_mse": np.array([[np.nan]])}, np.array([1]), 1, 3)  # exact


@pytest.mark.parametrize("content", ["random", "pickled"])
def test_a_bad_file_error_never_advises_allow_pickle(tmp_path, content):
    import os

    from prsg_widgets.backend.explanation import Explanation

    path = tmp_path / "bad.npz"
    if content == "random":
        path.write_bytes(os.urandom(4096))
    else:
        np.savez(path, a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="damaged or not a prsg file") as err:
        Explanation.load(path)
    assert "allow_pickle" not in str(err.value) and "unpickling" in str(err.value)


def test_too_many_patches_for_the_memory_is_refused_with_the_figure(tiny_generator):
    from prsg_widgets import Explainer
    from prsg_widgets.core.grid import TooManyPatchesError

    with Explainer(tiny_generator, grid=6, max_patches=30, progress=False, baseline_samples=16) as ex:
        with pytest.raises(TooManyPatchesError, match=r"n = 30 patches need 2\^30 = 1,073,741,824 minimal "
                                                      r"features .* GB, and .* GB of memory is available"):
            ex.explain(0, n=30, patches="random")


def test_the_memory_check_uses_what_is_available(monkeypatch):
    from prsg_widgets.backend.persistence import store
    from prsg_widgets.core.grid import TooManyPatchesError

    monkeypatch.setattr(store, "available_memory", lambda: 2 * 10**9)
    store.check_memory(12, 16_384)  # 4,096 × 16,384 × 8 bytes ≈ 0.5 GB: fits
    with pytest.raises(TooManyPatchesError, match=r"n = 16 .* 8\.6 GB, and 2\.0 GB"):
        store.check_memory(16, 16_384)


def test_a_key_folder_that_cannot_be_written_is_refused_before_any_solve(tiny_generator, tmp_path, monkeypatch):
    """(As root every folder is writable, so the failing write is simulated where the store makes it.)"""
    from prsg_widgets import Explainer
    from prsg_widgets.backend.persistence import store

    real = store.write_text

    def read_only(path, text):
        if path.name.startswith(".prsg-probe-"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, text)

    monkeypatch.setattr(store, "write_text", read_only)
    with Explainer(tiny_generator, grid=4, progress=False, baseline_samples=16, cache_dir=tmp_path) as ex:
        with pytest.raises(PermissionError, match="cannot be written .* give another cache_dir"):
            ex.explain(0, patches=[0, 5])
    monkeypatch.setattr(store, "write_text", real)
    with Explainer(tiny_generator, grid=4, progress=False, baseline_samples=16, cache_dir=tmp_path) as ex:
        done = ex.explain(0, patches=[0, 5]).solve_all()
    monkeypatch.setattr(store, "write_text", read_only)  # complete: a read-only cache still serves it
    with Explainer(tiny_generator, grid=4, progress=False, baseline_samples=16, cache_dir=tmp_path) as ex:
        assert ex.explain(0, patches=[0, 5]).is_complete and done.is_complete


def test_a_code_shape_the_model_cannot_take_names_the_argument(tiny_generator):
    import torch
    from tiny_model import make_tiny_module

    from prsg_widgets import Explainer, split_generator

    with pytest.raises(ValueError, match=r"code of shape \(1, 5\) made by sample_codes"):
        split_generator(make_tiny_module(), "2", sample_codes=(5,))
    with Explainer(tiny_generator, grid=4, progress=False, baseline_samples=16) as ex:
        with pytest.raises(ValueError, match=r"code has shape \(1, 3\); .* takes codes of shape \(1, 4\)"):
            ex.sample_from_code(torch.zeros(1, 3))
