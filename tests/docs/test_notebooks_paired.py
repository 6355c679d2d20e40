"""Every committed notebook agrees with its paired jupytext source (``notebooks/NAME.py``).

The ``.py`` (percent format) is the reviewable source of ``notebooks/NAME.ipynb``; the ``.ipynb``
adds the outputs. Edit either side, then ``jupytext --sync`` (or
``python scripts/execute_notebooks.py``): a pair whose cells differ fails here.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
jupytext = pytest.importorskip("jupytext")

NB_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))


def cells(nb) -> list[tuple[str, str, tuple[str, ...]]]:
    """What must agree: each cell's type, source and tags (``parameters``, ``nbval-ignore-output``)."""
    return [(c.cell_type, c.source, tuple(c.metadata.get("tags", ()))) for c in nb.cells]


def drift(ipynb: Path) -> list[str]:
    """Differences between ``ipynb`` and its paired ``.py`` (empty when they agree)."""
    py = ipynb.with_suffix(".py")
    if not py.exists():
        return [f"{ipynb.name} has no paired source {py.name} "
                f"(jupytext --set-formats ipynb,py:percent {ipynb.name})"]
    nb = nbformat.read(ipynb, as_version=4)
    problems = []
    formats = nb.metadata.get("jupytext", {}).get("formats", "")
    if "py:percent" not in formats.split(","):
        problems.append(f"{ipynb.name}: metadata jupytext.formats is {formats!r}, not paired with py:percent")
    a, b = cells(nb), cells(jupytext.read(py))
    if len(a) != len(b):
        problems.append(f"{ipynb.name} has {len(a)} cells, {py.name} has {len(b)}")
    for i, (x, y) in enumerate(zip(a, b, strict=False)):  # a count mismatch is reported above
        if x != y:
            problems.append(f"cell {i}: {ipynb.name} has {x[0]} {x[2] or ''}\n{x[1]}\n"
                            f"--- while {py.name} has {y[0]} {y[2] or ''}\n{y[1]}")
            break
    return problems


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 10


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_matches_its_source(ipynb):
    problems = drift(ipynb)
    assert not problems, ("\n".join(problems) + f"\n\n{ipynb.name} and its source disagree: run "
                          f"`jupytext --sync notebooks/{ipynb.name}` (the newer file wins), then "
                          f"`python scripts/execute_notebooks.py --only {ipynb.stem}`")


def test_quickstart_is_committed_with_outputs():
    """Issue 16: the README says notebooks carry their outputs; the quickstart's report shows the
    health without a manual re-run.
    """
    nb = nbformat.read(NB_DIR / "00_quickstart.ipynb", as_version=4)
    text = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                   for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "explore() dashboard:" in text and "cancellation" in text and "still solving" not in text


def _copy_pair(tmp_path: Path, name: str) -> Path:
    for suffix in (".ipynb", ".py"):
        shutil.copy(NB_DIR / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    return tmp_path / f"{name}.ipynb"


def test_drift_is_detected_on_either_side(tmp_path):
    ipynb = _copy_pair(tmp_path, "02_sparsity")
    py = ipynb.with_suffix(".py")
    assert drift(ipynb) == []

    # the source edited, the notebook not
    original = py.read_text()
    py.write_text(original.replace("\nGRID = ", "\nGRID = 1 + ", 1))
    assert py.read_text() != original
    assert any("cell" in p for p in drift(ipynb))
    py.write_text(original)
    assert drift(ipynb) == []

    # the notebook edited (in Lab without jupytext), the source not
    nb = nbformat.read(ipynb, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.source += "\nprint('edited')"
    nbformat.write(nb, ipynb)
    assert any("cell" in p for p in drift(ipynb))

    # a cell added to one side only, a tag dropped, a pair that lost its source
    nb.cells.append(nbformat.v4.new_markdown_cell("new"))
    nbformat.write(nb, ipynb)
    assert drift(ipynb)
    shutil.copy(NB_DIR / "02_sparsity.ipynb", ipynb)
    assert drift(ipynb) == []
    py.write_text(original.replace('# %% tags=["parameters"]', "# %%", 1))
    assert drift(ipynb)
    py.unlink()
    assert "no paired source" in drift(ipynb)[0]


def test_sync_repairs_a_drifted_pair_and_keeps_outputs(tmp_path):
    ipynb = _copy_pair(tmp_path, "02_sparsity")
    py = ipynb.with_suffix(".py")
    py.write_text(py.read_text().replace("\nGRID = ", "\nGRID = 1 + ", 1))
    assert drift(ipynb)
    from jupytext.cli import jupytext as jupytext_cli

    jupytext_cli(["--sync", "--quiet", str(py)])   # the .py is the newer file: its inputs win
    assert drift(ipynb) == []
    after = nbformat.read(ipynb, as_version=4)
    before = nbformat.read(NB_DIR / "02_sparsity.ipynb", as_version=4)
    assert any("GRID = 1 + " in c.source for c in after.cells)
    assert [c.get("outputs") for c in after.cells] == [c.get("outputs") for c in before.cells]
