"""Files you can trust (issue 18, points 1 and 5): every field of a saved explanation and of a
cache part is checked on load (with the checksum recomputed, as an editor would), a bad part is set
aside and never stops later runs, a FIFO never hangs, a truncated file leaves no open file, a full
disk names the file, and the CLI writes its results together or not at all.
"""
from __future__ import annotations

import errno
import gc
import json
import os
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

from prsg_widgets import Explanation
from prsg_widgets.backend.persistence import files
from prsg_widgets.backend.persistence.files import read_npz, write_npz


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """A solved explanation of the tiny generator with a cache (parts on disk), and its file."""
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1]))
    from tiny_model import make_tiny_module

    from prsg_widgets import Explainer, split_generator

    cache = tmp_path_factory.mktemp("cache")
    gen = split_generator(make_tiny_module(), "2", sample_codes=(4,), name="tiny")
    ex = Explainer(gen, grid=4, solver="tiny", progress=False, baseline_samples=16, cache_dir=cache, batch_size=4)
    expl = ex.explain(0, patches=[0, 5, 10]).solve_all()
    path = expl.save(tmp_path_factory.mktemp("saved") / "e.npz")
    yield ex, expl, path, cache
    ex.close()


def _edited(path: Path, tmp: Path, **changes) -> Path:
    data = read_npz(path)
    data.update({k: np.asarray(v) for k, v in changes.items()})
    return write_npz(tmp / "edited.npz", data)  # checksum recomputed: only the values can tell


@pytest.mark.parametrize("field, value", [
    ("patches", lambda d: d["patches"].astype(float) + 0.7),
    ("patches", lambda d: np.array([0, 0, 10])),
    ("patches", lambda d: np.array([10, 5, 0])),
    ("patches", lambda d: np.array([0, 5, 99])),
    ("minimal_features", lambda d: d["minimal_features"] * 1e30),
    ("minimal_features", lambda d: np.where(np.arange(len(d["minimal_features"]))[:, None] == 3, np.nan,
                                            d["minimal_features"]).astype(np.float32)),
    ("minimal_features", lambda d: d["minimal_features"][:4]),
    ("baseline", lambda d: np.full_like(d["baseline"], np.nan)),
    ("epsilon", lambda d: np.float64(np.nan)),
    ("epsilon", lambda d: np.float64(-1)),
    ("iterations", lambda d: -d["iterations"] - 1),
    ("patch_mse", lambda d: np.nan_to_num(d["patch_mse"], nan=0.5)),
    ("feasible", lambda d: ~d["feasible"]),
    ("components", lambda d: d["components"] * 2),
    ("meta", lambda d: np.asarray("[1, 2]")),
    ("meta", lambda d: np.asarray(_meta_of(d, grid=0))),
    ("meta", lambda d: np.asarray(_meta_of(d, feature_shape=[3]))),
])
def test_every_field_of_a_saved_explanation_is_checked(solved, tmp_path, field, value):
    _, _, path, _ = solved
    bad = _edited(path, tmp_path, **{field: value(read_npz(path))})
    with pytest.raises(ValueError) as err:
        Explanation.load(bad)
    message = str(err.value)
    assert "\n" not in message and str(bad) in message and "field '" in message, message


def _meta_of(d: dict, **changes) -> str:
    meta = json.loads(str(d["meta"]))
    meta.update(changes)
    return json.dumps(meta)


def test_a_sound_file_loads_exactly(solved):
    _, expl, path, _ = solved
    loaded = Explanation.load(path)
    assert loaded.minimal_features().equal(expl.minimal_features())
    assert loaded.patches == expl.patches and loaded.epsilon == expl.epsilon


def _parts(cache: Path) -> list[Path]:
    return sorted(cache.glob("*/part-*.npz"))


@pytest.mark.parametrize("name, change", [
    ("patch_mse inf", lambda p: {"patch_mse": np.where(np.isnan(p["patch_mse"]), np.nan, np.inf)}),
    ("patch_mse -1", lambda p: {"patch_mse": np.where(np.isnan(p["patch_mse"]), np.nan, -1.0)}),
    ("features ×1e30", lambda p: {"features": p["features"] * np.float32(1e30)}),
    ("features zero", lambda p: {"features": np.zeros_like(p["features"])}),
    ("subsets shuffled", lambda p: {"subsets": p["subsets"][::-1].copy()}),
    ("subsets duplicated", lambda p: {"subsets": np.r_[p["subsets"][:1], p["subsets"][:-1]]}),
    ("subsets float", lambda p: {"subsets": p["subsets"].astype(float)}),
    ("one element too many", lambda p: {"subsets": np.r_[p["subsets"], 7]}),
    ("another key", lambda p: {"key": np.asarray("0" * 24)}),
])
def test_a_bad_part_is_set_aside_and_never_stops_later_runs(solved, tmp_path, name, change):
    ex, expl, _, cache = solved
    from prsg_widgets import Explainer

    part = _parts(cache)[0]
    good = read_npz(part)
    try:
        write_npz(part, {**good, **change(good)})
        with pytest.warns(RuntimeWarning, match=r"cache file .*part-.* could not be read .*field"):
            again = Explainer(ex.generator, grid=4, solver="tiny", progress=False, baseline_samples=16,
                              cache_dir=cache, batch_size=4)
            fresh = again.explain(0, patches=[0, 5, 10])
        assert not fresh.is_complete                                   # the bad part's rows are gone …
        assert list(cache.glob("*/part-*.npz.corrupt"))                 # … set aside, named
        fresh.solve_all()                                              # … and solved again
        assert float((fresh.minimal_features() - expl.minimal_features()).abs().max()) <= 1e-5
        again.close()
    finally:
        for p in cache.glob("*/*.corrupt"):
            p.unlink()


def test_a_fifo_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "e.npz"
    os.mkfifo(fifo)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("err", _load_error(fifo)), daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive(), "loading a FIFO hangs"
    assert "not a regular file" in result["err"]


def _load_error(path) -> str:
    try:
        Explanation.load(path)
    except ValueError as exc:
        return str(exc)
    return "accepted"


def test_a_truncated_file_leaves_no_open_file(solved, tmp_path):
    _, _, path, _ = solved
    cut = tmp_path / "cut.npz"
    cut.write_bytes(path.read_bytes()[:3000])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        with pytest.raises(ValueError, match="damaged"):
            Explanation.load(cut)
        gc.collect()


def test_a_full_disk_names_the_file_and_leaves_nothing(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    target = tmp_path / "sub" / "x.npz"
    with pytest.raises(OSError) as err:
        files.write_npz(target, {"a": np.zeros(3)})
    assert err.value.errno == errno.ENOSPC and str(target) in str(err.value) and "disk is full" in str(err.value)
    assert list(target.parent.iterdir()) == []                         # no temporary file left behind


def test_cli_writes_explanation_and_health_together_or_not_at_all(tmp_path, monkeypatch, capsys):
    from prsg_widgets.cli import main

    argv = ["explain", "--model", "toy-scenes", "--cheap", "--preset", "tiny", "--grid", "4", "--n", "2",
            "--device", "cpu", "--out", str(tmp_path)]
    real = files.write_text

    def no_space(fh):
        raise OSError(errno.ENOSPC, "No space left on device")

    def full_on_health(path, text):  # the disk fills up while health.json is written
        return files._atomic_write(Path(path), no_space) if "health" in Path(path).name else real(path, text)

    monkeypatch.setattr(files, "write_text", full_on_health)
    assert main(argv) == 2
    err = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert err.startswith("prsg: error: cannot write") and "health" in err and "disk is full" in err
    assert not (tmp_path / "explanation.npz").exists() and not (tmp_path / "health.json").exists()
    from prsg_widgets.cli import LOCK_NAME

    # nothing staged is left (the --out lock stays: it is the folder's, not a result)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") and p.name != LOCK_NAME]


@pytest.mark.parametrize("args, message", [
    (["--top", "-1"], "--top must be"),
    (["--out", "/proc/prsg-test"], "cannot be written"),
    (["--patches", "0,5", "--n", "3"], "contradicts"),
])
def test_cli_refuses_before_loading_the_model(args, message, capsys, tmp_path):
    from prsg_widgets.cli import main

    argv = ["explain", "--model", "toy-scenes", "--cheap", "--out", str(tmp_path / "o")] + args
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.err.count("\n") == 1 and "solving" not in captured.out


def test_explain_takes_numpy_ids_and_refuses_a_contradicting_n(solved):
    ex, _, _, _ = solved
    s = ex.sample(0)
    assert ex.explain(s, patches=np.array([0, 5])).patches == [0, 5]
    with pytest.raises(ValueError, match="n=3 contradicts the 2 patch ids"):
        ex.explain(s, patches=[0, 5], n=3)
    with pytest.raises(ValueError, match="integers"):
        ex.explain(s, patches=np.array([0.0, 5.7]))
