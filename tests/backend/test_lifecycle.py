"""The solve lifecycle, end to end in subprocesses: Ctrl-C, kill -9 and resume, concurrent writers.

These run the real ``prsg`` command on toy-scenes and check what is on disk, not what is printed.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from prsg_widgets.backend.persistence.store import read_npz

ARGS = ["explain", "--model", "dcgan-faces", "--cheap", "--n", "5", "--preset", "fast", "--seed", "2"]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _terminal_ctrl_c() -> None:
    """In the child before exec: Ctrl-C as in a terminal.  A shell starts background jobs with
    SIGINT ignored, a child inherits that, and Python then installs no KeyboardInterrupt handler:
    under a CI runner launched that way the interrupt would never arrive.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(tmp_path: Path, cache: Path, out: str, extra: tuple[str, ...] = ()) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "prsg_widgets.cli", *ARGS, *extra, "--cache-dir", str(cache),
                             "--out", str(tmp_path / out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=tmp_path, preexec_fn=_terminal_ctrl_c)


def _subsets_on_disk(cache: Path) -> set[int]:
    seen: set[int] = set()
    for part in cache.glob("*/part-*.npz"):
        seen.update(read_npz(part)["subsets"].tolist())
    return seen


def _wait_for_parts(proc: subprocess.Popen, cache: Path, timeout: float = 240) -> None:
    """Wait until the solve has saved something (the first part file), so an interrupt lands mid-solve."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"the solve ended before it could be interrupted: {proc.communicate()}")
        if list(cache.glob("*/part-*.npz")):
            return
        time.sleep(0.2)
    proc.kill()
    pytest.fail("no part file appeared")


# batches of 4: the subsets finish in waves, so the first part lands with most of the solve still
# to run (in one batch of 31 they all finish within a second or two of the first part)
WAVES = ("--batch-size", "4")


def test_ctrl_c_exits_130_saves_and_the_rerun_solves_only_what_is_missing(tmp_path):
    cache = tmp_path / "cache"
    proc = _start(tmp_path, cache, "out1", WAVES)
    _wait_for_parts(proc, cache)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)  # an impatient second Ctrl-C must not lose the save
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err
    assert "terminate called" not in err
    line = [ln for ln in err.splitlines() if ln.startswith("prsg:")][-1]
    m = re.search(r"(\d+) of 31 minimal features are solved; (\d+) are on disk", line)
    assert m, line
    on_disk = _subsets_on_disk(cache)
    assert int(m.group(2)) == len(on_disk) >= 1  # the message tells the truth about the disk
    assert 0 < len(on_disk) < 32

    rerun = _start(tmp_path, cache, "out2", WAVES)
    out, err = rerun.communicate(timeout=400)
    assert rerun.returncode == 0, err
    assert f"resuming: {len(on_disk - {0})} already solved" in out  # the non-empty subsets
    # the rerun solved only what was missing: tqdm counted the rest
    assert f"0/{32 - len(on_disk | {0})}" in err


def test_kill_9_then_resume_equals_an_uninterrupted_run(tmp_path):
    cache = tmp_path / "cache"
    proc = _start(tmp_path, cache, "killed")
    _wait_for_parts(proc, cache)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    kept = _subsets_on_disk(cache)
    assert 0 < len(kept) < 32
    resumed = _start(tmp_path, cache, "resumed")
    _, err = resumed.communicate(timeout=400)
    assert resumed.returncode == 0, err
    clean = _start(tmp_path, tmp_path / "fresh_cache", "clean")
    _, err = clean.communicate(timeout=400)
    assert clean.returncode == 0, err
    a = read_npz(tmp_path / "resumed" / "explanation.npz")
    b = read_npz(tmp_path / "clean" / "explanation.npz")
    # batch-independent, at the default batch size: resumed = uninterrupted, bit for bit
    assert np.array_equal(a["minimal_features"], b["minimal_features"])
    assert np.array_equal(a["feasible"], b["feasible"])


@pytest.mark.parametrize("preset", ["fast", "interactive"])
def test_resume_is_bit_identical_at_the_default_batch_size(tmp_path, preset):
    """Half the subsets solved and saved by one explainer, the rest by another on the same cache,
    equals one uninterrupted solve bit for bit (default batch size: packed 8-row blocks on the CPU).
    Four patches (15 subsets): five took a minute of CI for the same check.
    """
    from prsg_widgets import Explainer

    def explainer(cache):
        return Explainer("dcgan-faces", cheap=True, grid=6, solver=preset, progress=False, cache_dir=cache)

    patches = [8, 14, 15, 21]
    with explainer(tmp_path / "a") as ex:
        first = ex.explain(3, patches=patches)
        first.submit([s for s in range(16) if bin(s).count("1") in (1, 2)]).result()  # a part, saved
    with explainer(tmp_path / "a") as ex:
        resumed = ex.explain(3, patches=patches)
        assert 0 < resumed.progress[0] < 16
        resumed.solve_all()
        got = resumed.minimal_features().clone()
    with explainer(tmp_path / "b") as ex:
        clean = ex.explain(3, patches=patches)
        clean.solve_all()
        assert torch.equal(got, clean.minimal_features())
