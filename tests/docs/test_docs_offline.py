r"""The built documentation site shows its widgets and its maths with no network.

Opens the quickstart and the teaching notebook pages of a built site in Debian's Chromium, over a
local HTTP server and as files, with every request that leaves this machine aborted (and, once,
with the network left alone), and checks what a reader sees: every saved widget drawn (its canvas
pixels painted, its words the ones in the saved state), every formula typeset by MathJax, no raw
``\(`` left, no page error, and no request to anywhere but the site itself.

The site: ``PRSG_DOCS_SITE`` (a built docs/_build/html; scripts/docs.sh passes its own), else a
build of this checkout into a temp folder (≈ 1 min).  Skipped when the docs extra or the browser
is missing, unless ``PRSG_REQUIRE_DOCS=1`` (scripts/docs.sh sets it; CI runs that script, and
sets ``PRSG_DOCS_CHECKED_LATER=1`` for the suite before it, so the site is built and checked once).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "widgets" / "browser"))
import harness  # noqa: E402

PAGES = ["notebooks/00_quickstart.html", "notebooks/teaching_interactions.html"]
WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'
# Logged by pydata-sphinx-theme on a first visit (no saved light/dark choice), and by Chromium for
# the site's missing /favicon.ico (a browser request, not the page's: a failed load of anything
# the page asks for is caught as an HTTP status or a failed request instead).
KNOWN_CONSOLE_ERRORS = ("Got invalid theme mode", "Failed to load resource: the server responded with a status of 404")
SCREENSHOTS = ROOT / "docs" / "screenshots"


def _required() -> bool:
    return os.environ.get("PRSG_REQUIRE_DOCS", "").strip().lower() in ("1", "true", "yes")


def _skip_or_fail(reason: str) -> None:
    if _required():
        pytest.fail(f"{reason} (PRSG_REQUIRE_DOCS=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    given = os.environ.get("PRSG_DOCS_SITE")
    if not given and os.environ.get("PRSG_DOCS_CHECKED_LATER") == "1":
        # .ci/run: scripts/docs.sh builds the site and runs this same check on it after the
        # suite; building it here too cost a worker a minute for the same answer
        pytest.skip("the site is built and checked by scripts/docs.sh later in this run")
    if given:
        path = Path(given).resolve()
        if not (path / "index.html").is_file():
            pytest.fail(f"PRSG_DOCS_SITE={given} holds no built site (no index.html)")
        return path
    for module in ("sphinx", "myst_nb", "pydata_sphinx_theme", "sphinx_copybutton"):
        try:
            __import__(module)
        except ImportError:
            _skip_or_fail(f"the docs extra is not installed (no {module}): pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("docs") / "html"
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
         str(ROOT / "docs"), str(out)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert done.returncode == 0, f"docs build failed:\n{done.stdout}\n{done.stderr}"
    return out


@pytest.fixture(scope="module")
def server(site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser(request):
    missing = [m for m in harness.missing_requirements() if "jupyterlab" not in m and "ipykernel" not in m]
    if missing:
        _skip_or_fail("browser missing: " + "; ".join(missing))
    # the worker's one Playwright (tests/conftest.py): a second one beside the browser tests' fails
    chromium = harness.launch_chromium(request.getfixturevalue("shared_playwright"))
    try:
        yield chromium
    finally:
        chromium.close()


def _is_local(url: str) -> bool:
    return url.startswith(("file:", "data:", "blob:", "about:")) or re.match(
        r"https?://(127\.0\.0\.1|localhost)(:\d+)?/", url) is not None


# One JS probe: how much of the page is drawn.
_PROBE = r"""(sel) => {
  const views = [...document.querySelectorAll(sel)];
  const isPainted = c => {
    const r = c.getBoundingClientRect();
    if (r.width < 1 || r.height < 1 || !c.width || !c.height) return false;
    try {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
    } catch (e) { return true; }  // not a 2d canvas (or tainted): drawn by something
    return false;
  };
  // The pictures that the saved state holds: the widgets' own canvases, and the ipycanvas
  // lattices, whose saved state holds their picture as image_data (LatticeView.png)
  const pictures = views.map(s => s.previousElementSibling)
    .map(el => el ? [...el.querySelectorAll('canvas')] : [])
    .filter(cs => cs.length)
    .map(cs => cs.some(isPainted));
  return {
    views: views.length,
    // embed-amd puts each view's drawing in a .widget-subarea just before its script
    drawn: views.filter(s => {
      const el = s.previousElementSibling;
      if (!el || !el.classList.contains('widget-subarea')) return false;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0;
    }).length,
    // the words of every HTML widget in the saved state, and those drawn on the page (both as
    // the browser reads the HTML, so entities and tags count the same on either side)
    saved_html: Object.values(JSON.parse(document.querySelector(
        'script[type="application/vnd.jupyter.widget-state+json"]').textContent).state)
      .filter(m => m.model_name === 'HTMLModel')
      .map(m => { const d = document.createElement('div'); d.innerHTML = m.state.value || '';
                  return d.textContent.replace(/\s+/g, ' ').trim(); })
      .filter(t => t),
    drawn_html: [...document.querySelectorAll('.widget-subarea .widget-html-content')]
      .map(e => e.textContent.replace(/\s+/g, ' ').trim()),
    pictures: pictures.length,
    painted: pictures.filter(Boolean).length,
    math: document.querySelectorAll('span.math, div.math').length,
    typeset: document.querySelectorAll('mjx-container').length,
    text: document.body.innerText,
  };
}"""


def _open(browser, url: str, block: bool):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    problems: list[str] = []

    def route(r):
        if _is_local(r.request.url):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    if block:
        context.route("**/*", route)
    else:
        context.on("request", lambda req: None if _is_local(req.url) else outside.append(req.url))
    page = context.new_page()
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" and not m.text.startswith(KNOWN_CONSOLE_ERRORS) else None)
    page.on("requestfailed", lambda r: None if not _is_local(r.url) else problems.append(
        f"failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.goto(url)
    return context, page, outside, problems


def _check_page(site: Path, page, name: str, outside: list[str], problems: list[str]) -> dict:
    views = page.evaluate(f"() => document.querySelectorAll('{WIDGET_VIEW}').length")
    assert views > 0, f"{name}: the page has no saved widget views (nothing to check)"
    try:
        page.wait_for_function(
            "([sel, n]) => [...document.querySelectorAll(sel)].filter(s => s.previousElementSibling"
            " && s.previousElementSibling.classList.contains('widget-subarea')).length >= n",
            arg=[WIDGET_VIEW, views], timeout=60_000)
        page.wait_for_function(
            "() => document.querySelectorAll('span.math, div.math').length === 0 ||"
            " document.querySelectorAll('mjx-container').length >="
            " document.querySelectorAll('span.math, div.math').length", timeout=60_000)
    except Exception:
        pass  # the asserts below say what is missing
    # canvases paint after their view is attached; a saved lattice picture decodes asynchronously
    for _ in range(40):
        page.wait_for_timeout(500)
        seen = page.evaluate(_PROBE, WIDGET_VIEW)
        if seen["painted"] == seen["pictures"]:
            break
    assert seen["drawn"] == seen["views"], (
        f"{name}: {seen['drawn']} of {seen['views']} widgets drawn; {problems[:5]}")
    assert seen["pictures"] > 0 and seen["painted"] == seen["pictures"], (
        f"{name}: {seen['painted']} of {seen['pictures']} widget pictures painted")
    missing = [t for t in seen["saved_html"] if t not in seen["drawn_html"]]
    assert seen["saved_html"] and not missing, f"{name}: saved widget texts not drawn: {missing[:5]}"
    assert seen["typeset"] >= seen["math"], f"{name}: {seen['typeset']} of {seen['math']} formulas typeset"
    for raw in ("\\(", "\\)", "\\[", "$$"):
        assert raw not in seen["text"], f"{name}: raw maths {raw!r} left on screen"
    assert not outside, f"{name}: requests left the site: {outside[:5]}"
    assert not problems, f"{name}: " + "\n".join(problems[:10])
    return seen


def test_docs_pages_draw_widgets_and_maths(site, server, browser):
    # one test, not one per way of opening: under pytest-xdist each worker would build the site
    for how in ("http-offline", "file-offline", "http-online"):
        _check_pages(site, server if how.startswith("http") else site.as_uri() + "/", how, browser)


def _check_pages(site: Path, base: str, how: str, browser) -> None:
    teaching_math = 0
    for name in PAGES:
        context, page, outside, problems = _open(browser, base + name, block=how.endswith("offline"))
        try:
            seen = _check_page(site, page, f"{how} {name}", outside, problems)
            if "teaching" in name:
                teaching_math = seen["typeset"]
            if how == "http-offline" and os.environ.get("PRSG_DOCS_SCREENSHOTS"):
                SCREENSHOTS.mkdir(exist_ok=True)
                stem = Path(name).stem.split("_", 1)[-1] if "quickstart" in name else "teaching"
                # the quickstart dashboard; on the teaching page the first view with a saved picture
                first = page.locator(".widget-subarea").nth(0 if "quickstart" in name else 4)
                first.scroll_into_view_if_needed()
                page.evaluate("() => window.scrollBy(0, -120)")
                page.screenshot(path=str(SCREENSHOTS / f"docs-offline-{stem}-light.png"))
                page.evaluate("() => document.documentElement.dataset.theme = 'dark'")
                page.wait_for_timeout(500)
                page.screenshot(path=str(SCREENSHOTS / f"docs-offline-{stem}-dark.png"))
        finally:
            context.close()
    assert teaching_math > 20, f"{how}: the teaching page typeset only {teaching_math} formulas"
