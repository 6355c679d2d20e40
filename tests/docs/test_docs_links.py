"""The theory lives in the repository: nothing points outside it, and every equation number the
package cites is defined in docs/theory.md with that number.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THEORY = ROOT / "docs" / "theory.md"

# a clone has no design notes and no folder beside the repository
FORBIDDEN = ("DESIGN.md", "../shared", "shared/")

# "Eq. 6", "Eq. (7)", "Eqs. 5, 9, 10", "Eq. 5/9/10", "Eq. 6/7"
EQ_CITE = re.compile(r"\bEqs?\.\s*\(?(\d+(?:\s*[,/]\s*\d+)*)\)?")


def _package_files() -> list[Path]:
    return sorted(p for p in (ROOT / "prsg_widgets").rglob("*")
                  if p.is_file() and p.suffix in {".py", ".js", ".css", ".md", ".txt"})


def _scanned_files() -> list[Path]:
    return (_package_files() + [ROOT / "README.md"] + sorted((ROOT / "notebooks").glob("*.py"))
            + sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "docs").glob("*.md")))


def _text(path: Path) -> str:
    if path.suffix == ".ipynb":  # the cells' text; saved outputs are a run's record, not references
        return "\n".join("".join(cell["source"]) for cell in json.loads(path.read_text("utf-8"))["cells"])
    return path.read_text("utf-8")


def test_the_scan_sees_the_files_that_cite_the_theory():
    names = {p.relative_to(ROOT).as_posix() for p in _scanned_files()}
    assert {"README.md", "docs/theory.md", "prsg_widgets/core/harsanyi.py",
            "notebooks/00_quickstart.py", "notebooks/00_quickstart.ipynb"} <= names


@pytest.mark.parametrize("path", _scanned_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_reference_outside_the_repository(path: Path):
    text = _text(path)
    bad = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)
           for word in FORBIDDEN if word in line]
    assert not bad, (f"{path.relative_to(ROOT)} points outside the repository (cite docs/theory.md "
                     f"instead): {bad}")


def cited_equations(paths) -> dict[int, set[str]]:
    cited: dict[int, set[str]] = {}
    for path in paths:
        for match in EQ_CITE.finditer(_text(path)):
            for number in re.split(r"\s*[,/]\s*", match.group(1)):
                cited.setdefault(int(number), set()).add(path.relative_to(ROOT).as_posix())
    return cited


def test_equation_regex_reads_every_citation_form():
    text = "Eq. 6 and Eq. (7); Eqs. 5, 9, 10 — Eq. 5/9/10, Eq. 6/7, not Eq.x"
    found = [n for m in EQ_CITE.finditer(text) for n in re.split(r"\s*[,/]\s*", m.group(1))]
    assert found == ["6", "7", "5", "9", "10", "5", "9", "10", "6", "7"]


def test_every_cited_equation_is_defined_in_theory():
    cited = cited_equations(_package_files() + [ROOT / "README.md"]
                            + sorted((ROOT / "notebooks").glob("*.py")))
    assert {5, 6, 7, 10} <= set(cited), cited  # the package does cite them: the check is not empty
    theory = THEORY.read_text("utf-8")
    missing = {n: sorted(where) for n, where in cited.items()
               if f"\\tag{{{n}}}" not in theory or f"Eq. ({n})" not in theory}
    assert not missing, f"cited but not defined (as 'Eq. (N)' with \\tag{{N}}) in docs/theory.md: {missing}"
