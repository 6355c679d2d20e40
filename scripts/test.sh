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
# which CPU ran the tests: torch's kernels (and so the last bits of every float) differ between
# CPUs, so a failure seen on one machine names the machine it ran on
python - <<'PY'
import platform, torch
flags = open("/proc/cpuinfo").read().split() if platform.system() == "Linux" else []
model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
             platform.processor()) if flags else platform.processor()
engines = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
print(f"CPU: {model}; {torch.get_num_threads()} torch threads; torch {torch.__version__} kernels: "
      f"{torch.backends.cpu.get_cpu_capability()}; flags: {' '.join(engines) or 'none of avx2/avx512/amx'}")
PY
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
export PRSG_TABLE2_MAX_ITERATIONS="${PRSG_TABLE2_MAX_ITERATIONS:-20}"
# two workers, one per core; --dist loadfile keeps a file (so a notebook's cells, in order, in one
# kernel) on one worker; tests/conftest.py gives each worker its share of the cores' threads
python -m pytest -n 2 --dist loadfile --nbval-lax -ra --durations=15 tests notebooks
