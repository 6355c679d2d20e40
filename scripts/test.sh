#!/usr/bin/env bash
# The README's test command: install the package with its test tools (and Chromium for the
# real-browser tests when we may), then run unit, integration, browser and notebook tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if python -c 'import importlib.metadata as m; m.version("gan-face-generate")' 2>/dev/null; then
    # installed before (README command 1): a pip run that touches one of its requirements re-checks it
    echo "note: an 'ERROR: ... gan-face-generate ... requires torchvision / wandb' from pip below is harmless:" \
         "the weight packages are installed with --no-deps and need neither"
fi
# torch==2.13.0 first: a CPU build (an unpinned torch would pull a multi-GB CUDA build)
python -m pip install -q "torch==2.13.0"
python -m pip install -q -e ".[dev]"
# Debian's Chromium for the browser tests (skipped with a reason when it cannot be installed)
bash .ci/install_browser.sh || echo "Chromium not installed: the browser tests will be skipped"
# the built-in models' weights live in these packages. --no-deps skips their heavy, unneeded deps
# (torchvision, wandb) and also pip's conflict check; installed last, so no later pip run
# re-checks them and reports those deps missing
python -m pip install -q --no-deps gan-face-generate omniart-eye-generator
# notebooks share one solve cache so a figure never solves the same subsets twice
export PRSG_SOLVE_CACHE="${PRSG_SOLVE_CACHE:-$(mktemp -d)/solves}"
# notebook 10 (Table 2) solves every preset under a lower iteration cap than its 300
export PRSG_TABLE2_MAX_ITERATIONS="${PRSG_TABLE2_MAX_ITERATIONS:-60}"
# two workers, one per core; --dist loadfile keeps a file (so a notebook's cells, in order, in one
# kernel) on one worker; tests/conftest.py gives each worker its share of the cores' threads
python -m pytest -n 2 --dist loadfile --nbval-lax -ra --durations=15 tests notebooks
