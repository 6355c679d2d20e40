"""Figures the README quotes from a run come from a script: the README must hold them verbatim."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_tables_match_their_generated_files():
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_tables.py"), "--check"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_solver_table_lists_every_solver_and_image():
    import json

    data = json.loads((ROOT / "docs" / "n9_cpu" / "solver_v3.json").read_text())
    table = (ROOT / "docs" / "n9_cpu" / "solver_table.md").read_text()
    for name, rows in data["results"].items():
        assert name in table
        assert [r["seed"] for r in rows] == data["seeds"]
