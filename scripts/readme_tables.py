"""Copy the generated tables into the README between their markers (and check they are there).

    python scripts/readme_tables.py          # fill the README
    python scripts/readme_tables.py --check  # exit 1 when the README and a generated file differ

The tables are written by ``scripts/main_job_table.py`` and ``scripts/solver_table.py``;
``tests/docs/test_readme_numbers.py`` runs the check, so a README figure cannot drift from its run.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLES = {"main-job": "docs/generated/main_job.md", "solver-table": "docs/n9_cpu/solver_table.md"}


def block(name: str, readme: str) -> tuple[str, str]:
    """The README's block for ``name`` and what the generated file says it must be."""
    m = re.search(rf"<!-- {name}:begin[^>]*-->\n(.*?)<!-- {name}:end -->", readme, re.S)
    if m is None:
        raise SystemExit(f"README.md has no <!-- {name}:begin --> … <!-- {name}:end --> block")
    return m.group(1), (ROOT / TABLES[name]).read_text()


def main() -> int:
    path = ROOT / "README.md"
    readme = path.read_text()
    stale = [name for name in TABLES if block(name, readme)[0] != block(name, readme)[1]]
    if "--check" in sys.argv:
        for name in stale:
            print(f"README.md's {name} block differs from {TABLES[name]}: run python scripts/readme_tables.py")
        return 1 if stale else 0
    for name in TABLES:
        have, want = block(name, readme)
        readme = readme.replace(f"-->\n{have}<!-- {name}:end -->", f"-->\n{want}<!-- {name}:end -->", 1)
    path.write_text(readme)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
