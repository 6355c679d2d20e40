#!/usr/bin/env bash
# Lint and type-check the code: ruff (rules in pyproject.toml, [tool.ruff]) on the package, tests,
# scripts and benchmarks, and mypy ([tool.mypy]) on the package.  Both run even when the first
# fails, so one run shows every finding; the exit status is non-zero when either found something.
# Needs the `lint` extra (part of `dev`): pip install -e ".[lint]".
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
python -m ruff check prsg_widgets tests scripts benchmarks || status=1
python -m mypy || status=1
exit "$status"
