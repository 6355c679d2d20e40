#!/usr/bin/env bash
# Install what the real-browser test suite (tests/widgets/browser) needs.
# Idempotent: the apt step runs only when `chromium` is not on PATH, and pip
# leaves already-installed requirements alone.
# Never run `playwright install` here: it downloads its own browser, which fails
# on these machines; the suite drives Debian's chromium instead.
set -euo pipefail

if ! command -v chromium >/dev/null 2>&1; then
    echo "[install_browser] chromium not on PATH: installing Debian's chromium"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update
    $SUDO apt-get install -y chromium
else
    echo "[install_browser] chromium already installed: $(command -v chromium)"
fi

PYTHON="${PYTHON:-python}"
echo "[install_browser] ensuring Python packages"
"$PYTHON" -m pip install --disable-pip-version-check -q \
    jupyterlab playwright ipykernel ipywidgets anywidget pytest

echo "[install_browser] done"
