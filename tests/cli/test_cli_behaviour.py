"""``prsg`` behaves like its peers: --version, defaults in --help, a --help that loads no torch,
no silent overwrite of --out, and one way of counting subsets in every line.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from prsg_widgets import SettingsError, __version__
from prsg_widgets.cli import LOCK_NAME, _refuse_to_overwrite, build_parser, main

REPO = Path(__file__).resolve().parents[2]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _prsg(*args: str, code: str = "") -> subprocess.CompletedProcess:
    env = _env()
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "prsg_widgets.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def test_version_prints_the_version_and_exits_0():
    done = _prsg("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"prsg {__version__}"


@pytest.mark.parametrize("command, defaults", [
    ("explain", ["--n N", "(default: 4)", "(default: 6)", "(default: interactive)", "(default: prsg_out)",
                 "(default: dcgan-faces)", "(default: fp32)", "(default: 8)",
                 "seed of the generated sample (default: 0)", "default: 12)"]),
    ("sweep", ["(default: 4)", "(default: 6)", "(default: interactive)", "(default: prsg_sweep)", "(default: 0:8)",
               "(default: 3)"]),
])
def test_help_shows_the_defaults(command, defaults, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for default in defaults:
        assert default in text, default
    assert "(default: None)" not in text and "(default: False)" not in text


@pytest.mark.parametrize("args", [["--help"], ["explain", "--help"], ["sweep", "--help"], ["--version"]])
def test_help_does_not_import_torch(args):
    code = ("import sys\nfrom prsg_widgets.cli import LOCK_NAME, main\n"
            f"try:\n    main({args!r})\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "print('TORCH', 'torch' in sys.modules)")
    done = _prsg(code=code)
    assert done.returncode == 0, done.stderr
    assert "TORCH False" in done.stdout, done.stdout


EXPLAIN = ["explain", "--model", "toy-scenes", "--cheap", "--grid", "4", "--n", "3", "--preset", "tiny", "--seed", "1"]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """One explain run into a fresh --out (its printed output and the folder)."""
    out = tmp_path_factory.mktemp("explain_out")
    done = _prsg(*EXPLAIN, "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_every_line_of_explain_counts_the_non_empty_subsets(first_run):
    _, text = first_run
    total = 2 ** 3 - 1
    assert f"solving the minimal features of the {total} non-empty subsets (2^3 − 1)" in text, text
    assert re.search(rf"\b{total}/{total} non-empty subsets feasible", text), text
    assert re.search(rf"every patch within ε: \d+/{total} non-empty subsets", text), text
    fractions = re.findall(r"(\d+)/(\d+) (?:non-empty )?subsets", text)
    assert fractions and {int(b) for _, b in fractions} == {total}, fractions


def test_the_done_line_prints_the_subset_iterations_the_file_holds(first_run):
    import numpy as np

    out, text = first_run
    found = re.search(r"done in [\d.]+ s \(.*\), ([\d,]+) subset-iterations: ", text)
    assert found, text
    with np.load(out / "explanation.npz") as data:
        assert int(found.group(1).replace(",", "")) == int(data["iterations"].sum())


@pytest.mark.parametrize("args, words", [
    (["--n", "20"], ["20 patches need 2^20", "--max-patches"]),
    (["--device", "cuda:7"], ["--device cpu"]),
])
def test_errors_name_the_flag_that_fixes_them(args, words, tmp_path, capsys):
    import torch

    if args[0] == "--device" and torch.cuda.device_count() > 7:
        pytest.skip("this machine has a cuda:7")
    rc = main(["explain", "--model", "toy-scenes", "--cheap", *args, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2, err
    for word in words:
        assert word in err, err


def test_max_patches_raises_the_limit_from_the_command_line():
    from prsg_widgets.backend.settings import Settings

    args = build_parser().parse_args(["explain", "--n", "13", "--max-patches", "13"])
    assert Settings.from_args(args).n == 13


def test_rerunning_into_a_non_empty_out_is_refused_unless_forced(first_run, tmp_path):
    out, _ = first_run
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != LOCK_NAME}
    again = _prsg(*EXPLAIN, "--out", str(out))
    assert again.returncode == 2
    assert re.fullmatch(rf"prsg: error: --out {re.escape(str(out))} is not empty \(it holds explanation.npz, "
                        r"health.json, overview.png\); give --force to write into it \(files of the same name are "
                        r"replaced\) or choose another --out\n", again.stderr), again.stderr
    assert "solving" not in again.stdout  # refused before the model loads
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != LOCK_NAME} == before
    forced = _prsg(*EXPLAIN, "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert all((out / name).stat().st_mtime_ns > t for name, t in before.items())


def test_sweep_refuses_a_non_empty_out_before_a_cluster_starts(tmp_path, capsys, monkeypatch):
    from prsg_widgets.sweep import cluster

    monkeypatch.setattr(cluster, "make_client", lambda *a, **k: pytest.fail("a cluster was started"))
    (tmp_path / "study.json").write_text("{}")
    rc = main(["sweep", "--model", "toy-scenes", "--cheap", "--n", "3", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "is not empty (it holds study.json)" in err and "--force" in err, err


def test_the_solve_cache_inside_out_does_not_count(tmp_path):
    (tmp_path / "cache").mkdir()  # what an interrupted sweep leaves: rerunning resumes from it
    _refuse_to_overwrite(tmp_path, False, tmp_path / "cache")
    (tmp_path / "study.md").write_text("x")
    with pytest.raises(SettingsError, match="it holds study.md"):
        _refuse_to_overwrite(tmp_path, False, tmp_path / "cache")
    _refuse_to_overwrite(tmp_path, True, tmp_path / "cache")


def test_every_line_of_a_sweep_counts_the_non_empty_subsets(tmp_path, capsys):
    rc = main(["sweep", "--model", "toy-scenes", "--cheap", "--seeds", "0:2", "--n", "2", "--workers", "1",
               "--preset", "tiny", "--batch-size", "8", "--out", str(tmp_path), "--no-metrics"])
    assert rc == 0
    captured = capsys.readouterr()
    per_image, images = 2 ** 2 - 1, 2
    assert (f"{images} images × {per_image} non-empty subsets: {images * per_image} minimal features solved now, "
            "0 found in") in captured.out, captured.out
    bars = re.findall(r"\| (\d+)/(\d+) \[", captured.err)
    assert bars and bars[-1] == (str(images * per_image), str(images * per_image)), captured.err


def test_the_bokeh_hint_is_quoted_for_shells():
    paths = [*REPO.joinpath("prsg_widgets").rglob("*.py"), REPO / "README.md", *REPO.joinpath("docs").rglob("*.md")]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"pip install bokeh>=", text), path


# ---------------------------------------------------------------- one writer per --out (issue 24)
def test_a_second_run_on_a_busy_out_is_refused_naming_the_holder(tmp_path):
    """Two `prsg explain` on one new --out: the second is refused at once, naming the first
    (before, both passed the emptiness check and one result silently replaced the other).
    """
    import fcntl

    out = tmp_path / "out"
    out.mkdir()
    with open(out / LOCK_NAME, "w") as fh:  # what a running prsg holds
        fh.write("prsg (pid 4242, started 2026-12-05 10:00:00: explain --model)\n")
        fh.flush()
        fcntl.flock(fh, fcntl.LOCK_EX)
        second = _prsg(*EXPLAIN, "--seed", "2", "--out", str(out))
    assert second.returncode == 2
    assert "is in use by prsg (pid 4242" in second.stderr and "choose another --out" in second.stderr, second.stderr
    assert "solving" not in second.stdout
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]


def test_two_concurrent_runs_on_one_out_never_lose_a_result_silently(tmp_path):
    out = tmp_path / "out"
    runs = [subprocess.Popen([sys.executable, "-m", "prsg_widgets.cli", *EXPLAIN[:-1], str(seed), "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
            for seed in (1, 2)]
    results = [(r.returncode, *r.communicate(timeout=600)) for r in runs]
    results = [(r.returncode, o, e) for r, (_, o, e) in zip(runs, results, strict=True)]
    ok = [res for res in results if res[0] == 0]
    assert len(ok) == 1, results  # one writes; the other is refused (busy, or not empty once the first ended)
    refused = next(res for res in results if res[0] != 0)
    assert refused[0] == 2 and ("is in use by prsg" in refused[2] or "is not empty" in refused[2]), refused
    from prsg_widgets.backend.explanation import Explanation

    saved = Explanation.load(out / "explanation.npz")  # the file is the one the successful run reported
    assert f"seed {saved.meta['seed']}," in ok[0][1]


def test_force_replaces_links_and_never_writes_through_them(first_run, tmp_path):
    out, _ = first_run
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / "overview.png").unlink()
    (out / "overview.png").symlink_to(victim)
    forced = _prsg(*EXPLAIN, "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert victim.read_text() == "keep me"
    assert not (out / "overview.png").is_symlink() and (out / "overview.png").read_bytes()[:4] == b"\x89PNG"


def test_a_folder_where_a_result_goes_is_refused_before_solving(tmp_path):
    out = tmp_path / "out"
    (out / "explanation.npz").mkdir(parents=True)
    done = _prsg(*EXPLAIN, "--out", str(out), "--force")
    assert done.returncode == 2
    assert "holds a folder named explanation.npz" in done.stderr and "solving" not in done.stdout, done.stderr
