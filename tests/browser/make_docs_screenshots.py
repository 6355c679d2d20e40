"""Regenerate the dashboard screenshots of the docs (light and dark JupyterLab themes).

    python tests/browser/make_docs_screenshots.py [--out docs]

Runs the real-browser test of the ``explore()`` dashboard (JupyterLab 4 + Debian Chromium, see
``conftest.py``), which screenshots the dashboard in the light theme and again after switching
Lab to the dark theme, then copies the two PNGs to ``OUT/dashboard.png`` and
``OUT/dashboard-dark.png``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TEST = "test_widgets_browser.py::test_explore_dashboard_renders"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs"), help="folder for dashboard.png and dashboard-dark.png")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="prsg-shots-") as tmp:
        env = dict(os.environ, PRSG_BROWSER_ARTIFACTS=tmp, PRSG_REQUIRE_BROWSER="1")
        rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "-x", str(HERE / TEST)], cwd=REPO, env=env)
        if rc != 0:
            print("the browser test failed: no screenshots copied", file=sys.stderr)
            return rc
        shots = Path(tmp) / "test_widgets_browser" / "test_explore_dashboard_renders"
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for src, dst in (("explore-dashboard.png", "dashboard.png"), ("explore-dashboard-dark.png", "dashboard-dark.png")):
            shutil.copyfile(shots / src, out / dst)
            print(f"wrote {out / dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
