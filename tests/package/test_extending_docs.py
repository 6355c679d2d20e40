"""docs/extending.md runs as written: its Python blocks, in order, in a fresh interpreter (so its
loader and metric live in ``__main__``, as in a notebook, and reach the sweep's workers pickled
by value).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).parents[2] / "docs" / "extending.md"


def test_the_extending_page_runs(tmp_path):
    pytest.importorskip("distributed")
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    assert len(blocks) == 4 and "register_model(" in blocks[0] and "pw.sweep(" in blocks[2]
    code = "\n".join(b for b in blocks if "_front_door.attach" not in b)  # the last one is a front door's line
    code += "\nassert len(study.images) == 4 and all(v > 0 for v in study.values('top_norm'))\nprint('ran')\n"
    root = str(PAGE.parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ran")
    assert (tmp_path / "tiny_study" / "study.md").read_text().count("| top_norm |") == 1
