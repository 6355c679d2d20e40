#!/usr/bin/env bash
# Build the documentation site into docs/_build/html with every warning an error, then check in
# Chromium that its widgets and maths show with no network (tests/docs/test_docs_offline.py).
# Installs nothing: run `python -m pip install -e ".[docs]"` first (.ci/run does). The site's
# scripts (widget manager, MathJax) come from the npm registry on the first build (npm needed),
# cached in ~/.cache/prsg_widgets/docs-vendor (PRSG_DOCS_VENDOR_CACHE overrides).
# The check needs playwright (the dev extra) and chromium (.ci/install_browser.sh);
# PRSG_DOCS_SKIP_CHECK=1 builds only.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
python -m sphinx -W --keep-going -b html docs docs/_build/html -q "$@"
echo "docs built in $((SECONDS - start)) s: open docs/_build/html/index.html"
if [ "${PRSG_DOCS_SKIP_CHECK:-0}" != "1" ]; then
    start=$SECONDS
    PRSG_DOCS_SITE=docs/_build/html PRSG_REQUIRE_DOCS=1 \
        python -m pytest -p no:randomly -q tests/docs/test_docs_offline.py
    echo "offline check in $((SECONDS - start)) s"
fi
