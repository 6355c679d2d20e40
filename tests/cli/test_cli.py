import json

import numpy as np
import pytest
from npz_check import check_npz

from prsg_widgets.cli import main


def test_explain_writes_npz_and_overview(tmp_path, capsys):
    rc = main(["explain", "--model", "toy-scenes", "--cheap", "--grid", "4", "--n", "3", "--preset", "tiny",
               "--seed", "1", "--out", str(tmp_path)])
    assert rc == 0
    z = check_npz(tmp_path / "explanation.npz")
    assert z["feasible"].mean() >= 0.9
    assert (tmp_path / "overview.png").stat().st_size > 1000
    out = capsys.readouterr().out
    assert "subsets feasible" in out and "cancellation" in out
    health = json.loads((tmp_path / "health.json").read_text())
    assert health["subsets"] == 7 and float(z["health_cancellation"]) == pytest.approx(health["cancellation"])
    assert z["patch_mse"].shape == (8, 3) and np.isnan(z["patch_mse"][0]).all()
    assert np.array_equal(z["feasible"], np.nan_to_num(z["max_patch_mse"]) <= float(z["epsilon"]))


@pytest.mark.parametrize("args, message", [
    (["--patches", "1,2,99"], "out of range"),
    (["--patches", "a,b"], "comma-separated"),
    (["--layer", "main.99"], "valid layer names"),
    (["--n", "13"], "the limit is 12"),
    (["--grid", "0"], "grid must be between 1"),
    (["--iterations", "0"], "iterations must be between 1 and"),
    (["--layer", ""], "layer name is empty"),
    (["--n", "100000000000000000000"], "the limit is 12"),
    (["--lr", "-0.05"], "solver setting lr"),
    (["--lr", "nan"], "solver setting lr"),
    (["--top-k", "0"], "--top-k must be between 1"),
    (["--preset", "nope"], "unknown solver preset 'nope'; presets: "),
])
def test_bad_arguments_exit_with_one_line(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) if "a,b" in args else _returns_two():
        rc = main(["explain", "--model", "toy-scenes", "--cheap", "--out", str(tmp_path), *args])
        assert rc == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


class _returns_two:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_out_that_is_a_file_is_refused_before_solving(tmp_path, capsys):
    target = tmp_path / "a_file"
    target.write_text("x")
    assert main(["explain", "--model", "toy-scenes", "--cheap", "--out", str(target)]) == 2
    captured = capsys.readouterr()
    assert "is a file" in captured.err and "solving" not in captured.out
