"""``scripts/reproduce.py`` end to end on the toy-scenes model in a tiny setting."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "reproduce.py"

EXPECTED_KEYS = {
    "completeness", "sparsity", "dense_control", "matching_error", "boundary_breach", "rho",
    "inconsistency", "transferability", "controllable_reconstruction", "sequential_reconstruction",
    "table1_or", "table1_pca", "solver_tiny", "object_share",
}
ROW_FIELDS = {"key", "figure", "metric", "ours", "ours_text", "reference", "paper", "paper_text", "extra"}


def _load_script():
    spec = importlib.util.spec_from_file_location("reproduce_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reproduce():
    return _load_script()


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory, reproduce):
    out = tmp_path_factory.mktemp("reproduce")
    argv = ["--model", "toy-scenes", "--n", "3", "--grid", "4", "--images", "2", "--solver", "tiny",
            "--table2-presets", "", "--out", str(out / "results"), "--cache-dir", str(out / "cache"),
            "--no-progress", "--threads", "2"]
    rc = reproduce.main(argv)
    return rc, out / "results", argv


def test_toy_run_writes_tables(toy_run):
    rc, out, _ = toy_run
    assert rc == 0
    assert (out / "results.md").is_file() and (out / "results.json").is_file()
    data = json.loads((out / "results.json").read_text())
    assert {"setting", "results", "figures", "figure_errors", "timings_s", "environment"} <= set(data)
    assert data["setting"]["model"] == "toy-scenes" and data["setting"]["n"] == 3
    keys = {r["key"] for r in data["results"]}
    assert EXPECTED_KEYS <= keys, f"missing rows: {EXPECTED_KEYS - keys}"
    for r in data["results"]:
        assert ROW_FIELDS <= set(r)
    rows = {r["key"]: r for r in data["results"]}
    # the paper's reported numbers sit beside ours
    assert rows["transferability"]["paper"] == {"NVAE": 0.88, "SiD": 0.763}
    assert 0.0 <= rows["transferability"]["ours"] <= 1.0
    # completeness is an identity of the transform
    assert rows["completeness"]["ours"] < 1e-4
    md = (out / "results.md").read_text()
    assert "| key | figure | metric | ours | reference | paper |" in md
    assert "88.0% (NVAE), 76.3% (SiD)" in md
    for key in EXPECTED_KEYS:
        assert f"| {key} |" in md
    for png in data["figures"].values():
        assert (out / png).is_file()


def test_rerun_resumes_from_cache(toy_run, reproduce, tmp_path):
    rc, _, argv = toy_run
    assert rc == 0
    argv = list(argv)
    argv[argv.index("--out") + 1] = str(tmp_path / "again")
    assert reproduce.main(argv) == 0
    data = json.loads((tmp_path / "again" / "results.json").read_text())
    first = json.loads((Path(toy_run[1]) / "results.json").read_text())
    ours = {r["key"]: r["ours"] for r in data["results"]}
    assert ours["transferability"] == {r["key"]: r["ours"] for r in first["results"]}["transferability"]


def test_one_line_errors(reproduce, tmp_path, capsys):
    assert reproduce.main(["--out", str(tmp_path), "--model", "no-such-model"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("reproduce.py: error: unknown model") and "\n" not in err
    assert reproduce.main(["--out", str(tmp_path), "--solver", "nope", "--model", "toy-scenes"]) == 2
    assert "unknown solver preset" in capsys.readouterr().err


def test_settings_scale_paper_k(reproduce):
    full = reproduce.full_setting().resolve()
    assert (full.n, full.matching_k, full.k_a, full.k_b, full.images) == (9, 30, 20, 100, 5)
    small = reproduce.default_setting().resolve()
    assert small.n == 4 and small.solver == "tiny" and small.cheap
    assert 1 <= small.k_a <= small.k_b <= small.num_components
