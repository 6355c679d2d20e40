#!/usr/bin/env bash
# The README's test command: install the package with its test tools (and Chromium for the
# real-browser tests when we may), then run unit, integration, browser and notebook tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# torch==2.13.0 first: a CPU build (an unpinned torch would pull a multi-GB CUDA build)
python -m pip install -q "torch==2.13.0"
python -m pip install -q -e ".[dev]"
# the built-in models' weights live in these packages; --no-deps skips their heavy, unneeded deps
python -m pip install -q --no-deps gan-face-generate omniart-eye-generator
# Debian's Chromium for the browser tests (skipped with a reason when it cannot be installed)
bash .ci/install_browser.sh || echo "Chromium not installed: the browser tests will be skipped"
# notebooks share one solve cache so a figure never solves the same subsets twice
export PRSG_SOLVE_CACHE="${PRSG_SOLVE_CACHE:-$(mktemp -d)/solves}"
python -m pytest --nbval-lax -ra --durations=15 tests notebooks
