#!/usr/bin/env python
"""Sync every notebook with its paired jupytext source, then execute it in place.

Each ``notebooks/NAME.ipynb`` is paired with ``notebooks/NAME.py`` (jupytext percent format,
``formats: ipynb,py:percent`` in the notebook's metadata). Edit either side: the ``.py`` in any
editor, or the ``.ipynb`` in JupyterLab (which, with jupytext installed, saves both). Then:

    python scripts/execute_notebooks.py                  # sync all, execute all
    python scripts/execute_notebooks.py --only 05 12     # name prefixes
    python scripts/execute_notebooks.py --no-execute     # only sync (outputs kept as committed)

Sync is ``jupytext --sync``: the inputs come from the most recently modified file of each pair,
the outputs from the ``.ipynb``. Execution uses nbclient with the settings the old generators
(``scripts/make_notebooks.py`` & co., now removed) used: the ``python3`` kernel, the ``notebooks/``
folder as working directory, a 1200 s timeout per cell, and ``PRSG_BIGGAN_WEIGHTS=""`` for
``12_your_generator`` (its documented random-weights run). ``$PRSG_SOLVE_CACHE``, when set, is
passed through: notebooks sharing a model, image, patches and solver then reuse each other's
solves. ``00_quickstart`` is executed like the others and committed with its outputs (its
``d.wait()`` blocks under nbclient, so its report shows the health). ``tests/docs/test_notebooks_paired.py``
fails when a pair disagrees.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"

TIMEOUT = 1200                       # seconds per cell (was --ExecutePreprocessor.timeout=1200)
KERNEL = "python3"
NO_OUTPUTS: set[str] = set()        # committed without outputs: synced, cleared, never executed
ENV = {"12_your_generator": {"PRSG_BIGGAN_WEIGHTS": ""}}   # extra environment of the kernel


def notebooks(only: list[str] | None) -> list[Path]:
    paths = sorted(NB_DIR.glob("*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.stem.startswith(o) for o in only)]
        if not paths:
            raise SystemExit(f"no notebook in {NB_DIR.relative_to(ROOT)} starts with {' or '.join(only)}")
    return paths


def sync(path: Path) -> None:
    """``jupytext --sync``: bring the .ipynb and its paired .py to the same inputs."""
    if not path.with_suffix(".py").exists():
        raise SystemExit(f"{path.name} has no paired source {path.with_suffix('.py').name}; pair it with\n"
                         f"  jupytext --set-formats ipynb,py:percent {path.relative_to(ROOT)}")
    from jupytext.cli import jupytext

    jupytext(["--sync", "--quiet", str(path)])


@contextlib.contextmanager
def environment(extra: dict[str, str]):
    old = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def clear_outputs(path: Path) -> None:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            cell.outputs, cell.execution_count, changed = [], None, True
    if nb.metadata.pop("widgets", None) is not None:
        changed = True
    if changed:
        nbformat.write(nb, path)
        print("  cleared outputs")


def execute(path: Path) -> None:
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name=KERNEL,
                                     resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    with environment(ENV.get(path.stem, {})):
        client.execute()
    nbformat.write(nb, path)
    print(f"  executed in {time.perf_counter() - t0:.0f} s")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", metavar="NAME", help="notebook name prefixes, e.g. 01 05 teaching")
    ap.add_argument("--no-execute", action="store_true", help="sync the pairs only; keep the committed outputs")
    args = ap.parse_args(argv)
    for path in notebooks(args.only):
        print(path.relative_to(ROOT))
        sync(path)
        if path.stem in NO_OUTPUTS:
            clear_outputs(path)
        elif not args.no_execute:
            execute(path)
        sync(path)   # the .py again newer than the .ipynb (same inputs), as Lab's jupytext expects


if __name__ == "__main__":
    main()
