"""The README's Python examples, pasted one per cell into one kernel, must run (issue 9)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.integration


def readme_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_has_python_examples():
    blocks = readme_blocks()
    assert len(blocks) >= 5 and any("explore(" in b for b in blocks)


def test_every_readme_example_runs_in_a_kernel(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(b) for b in readme_blocks()])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:  # the cell, its source and traceback
        pytest.fail(f"a README example failed:\n{exc}")
    outputs = [o for c in nb.cells for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # the explore() cell ends with the bare `d`: one dashboard view is displayed
    explore_cell = next(c for c in nb.cells if "explore(" in c.source)
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in explore_cell.outputs)
    assert (tmp_path / "face0.npz").exists()
