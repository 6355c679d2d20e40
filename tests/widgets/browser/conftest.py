"""Fixtures for the real-browser suite (JupyterLab 4 + headless Debian Chromium + Playwright).

Fixtures:
  lab_server       (session)  a private JupyterLab server (harness.LabServer)
  chromium_browser (session)  a Playwright Chromium Browser running Debian's `chromium`
  lab              (function) a harness.Lab helper: fresh browser context, error checks,
                              screenshots; kernels are shut down when the test ends

Every test in this directory gets the `browser` marker. The whole directory is skipped when
chromium/playwright/jupyterlab are missing, unless PRSG_REQUIRE_BROWSER=1 (then it fails).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:  # works with any --import-mode
    sys.path.insert(0, str(_HERE))

import harness  # noqa: E402

REQUIRE_ENV = "PRSG_REQUIRE_BROWSER"


def _required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "true", "yes")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "browser: real-browser test (JupyterLab + headless Chromium via Playwright); "
        "needs `bash .ci/install_browser.sh`",
    )


def _in_this_dir(item) -> bool:
    try:
        return Path(str(item.path)).resolve().is_relative_to(_HERE)
    except (AttributeError, ValueError):
        return False


def pytest_collection_modifyitems(config, items):
    mine = [item for item in items if _in_this_dir(item)]
    if not mine:
        return
    missing = harness.missing_requirements()
    for item in mine:
        item.add_marker(pytest.mark.browser)
    if missing and not _required():
        reason = "browser suite skipped: " + "; ".join(missing) + f" (set {REQUIRE_ENV}=1 to fail instead)"
        for item in mine:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"_prsg_report_{report.when}", report)


def _check_requirements() -> None:
    missing = harness.missing_requirements()
    if missing:
        msg = "browser suite cannot run: " + "; ".join(missing)
        if _required():
            pytest.fail(f"{msg} ({REQUIRE_ENV}=1)", pytrace=False)
        pytest.skip(msg)


@pytest.fixture(scope="session", autouse=True)
def toy_model_cached():
    """Train (and cache) the toy-scenes weights in this process before any kernel needs them: on
    a cold machine the training would otherwise run inside a notebook cell, past its timeout.
    The kernels inherit this environment, so they read the same cache file.
    """
    from prsg_widgets.models import load_generator

    load_generator("toy-scenes", cheap=True)


@pytest.fixture(scope="session")
def lab_server():
    _check_requirements()
    # a short folder, not pytest's: kernels' Unix sockets live in its runtime/ and a socket path
    # may not exceed 107 bytes (under pytest-xdist, /tmp/pytest-of-root/pytest-N/popen-gw0/... does)
    base = Path(tempfile.mkdtemp(prefix="prsg-lab-"))
    server = harness.LabServer(base)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def playwright_instance(request):
    _check_requirements()
    # the worker's one Playwright (tests/conftest.py): the docs tests share it
    return request.getfixturevalue("shared_playwright")


@pytest.fixture(scope="session")
def chromium_browser(playwright_instance):
    browser = harness.launch_chromium(playwright_instance)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def lab(request, lab_server, chromium_browser):
    """Per-test helper: see harness.Lab (open_notebook, run_code, wait_for_python, screenshot)."""
    helper = harness.Lab(
        lab_server, chromium_browser, harness.ARTIFACTS_DIR,
        test_name=f"{request.node.path.stem}/{request.node.name}",
    )
    try:
        yield helper
        call_report = getattr(request.node, "_prsg_report_call", None)
        if call_report is not None and call_report.passed and helper.check_at_teardown:
            # Fail the test on errors that surfaced after its last explicit check
            # (uncaught page errors, cell tracebacks, tracebacks in widget callbacks).
            helper.check_errors()
    except BaseException:
        helper.save_failure_artifacts()
        raise
    finally:
        call_report = getattr(request.node, "_prsg_report_call", None)
        if call_report is not None and call_report.failed:
            paths = helper.save_failure_artifacts()
            sys.stderr.write(
                "\n[browser harness] failure artifacts:\n"
                + "".join(f"  {p}\n" for p in paths)
            )
        helper.close()
