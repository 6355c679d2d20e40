#!/usr/bin/env bash
# Build the documentation site into docs/_build/html with every warning an error. Installs
# nothing: run `python -m pip install -e ".[docs]"` first (.ci/run does).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
python -m sphinx -W --keep-going -b html docs docs/_build/html -q "$@"
echo "docs built in $((SECONDS - start)) s: open docs/_build/html/index.html"
