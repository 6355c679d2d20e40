"""Real-browser test harness: JupyterLab 4 server + headless Debian Chromium via Playwright.

The pytest fixtures live in ``conftest.py``; this module holds the machinery:

* :class:`LabServer` -- a private JupyterLab process (temp config/runtime/settings/workspace
  dirs, own process group, killed by group id).
* :func:`launch_chromium` -- Playwright's Chromium driven against Debian's ``chromium``.
* :class:`Lab` -- the per-test helper API used by the widget tests (open a notebook, run code in
  its kernel, poll Python state, take screenshots, fail fast on browser/kernel errors).

Nothing here imports Playwright at module import time, so the suite can be *skipped* cleanly on
machines without it (see ``conftest.py``).
"""

from __future__ import annotations

import ast
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
# Screenshots and failure logs; PRSG_BROWSER_ARTIFACTS overrides (e.g. a CI upload folder).
ARTIFACTS_DIR = Path(os.environ.get("PRSG_BROWSER_ARTIFACTS") or HERE / "artifacts")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# Lab plugins that only add noise (popups in the corner, network fetches).
DISABLED_LAB_PLUGINS = [
    "@jupyterlab/apputils-extension:announcements",
]

# User settings written into the private settings dir.
LAB_USER_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    # Render every cell (no virtualisation) so that widgets further down exist in the DOM.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

# Upper bound (s) for opening a notebook and running all its cells; generous because a 2-core
# machine under load can be 5x slower than usual. PRSG_BROWSER_TIMEOUT overrides.
DEFAULT_TIMEOUT = float(os.environ.get("PRSG_BROWSER_TIMEOUT") or 120)
# Playwright's default for locator actions/waits (click, wait_for, ...) in the pages we open.
ACTION_TIMEOUT = 30.0

ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# Kernel-side marker around values sent back by wait_for_python / eval_python.
_VALUE_BEGIN = "<<<PRSG-VALUE>>>"
_VALUE_END = "<<<PRSG-END>>>"


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


def set_theme(page, light: bool, settle_ms: int = 1000) -> None:
    """Switch JupyterLab to its light or dark theme and wait until it applies (Lab keeps the
    theme in its settings: leave it light at the end).
    """
    name = "JupyterLab Light" if light else "JupyterLab Dark"
    page.evaluate("(t) => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", name)
    page.wait_for_function("(want) => document.body.dataset.jpThemeLight === want",
                           arg="true" if light else "false", timeout=30_000)
    page.wait_for_timeout(settle_ms)


# --------------------------------------------------------------------------------------------
# Environment probing (used by conftest to skip or fail the whole suite)
# --------------------------------------------------------------------------------------------


def missing_requirements() -> list[str]:
    """Reasons the browser suite cannot run here; empty when everything is available."""
    missing = []
    if shutil.which("chromium") is None:
        missing.append("`chromium` is not on PATH (run `bash .ci/install_browser.sh`)")
    for module in ("playwright.sync_api", "jupyterlab", "ipykernel", "nbformat"):
        try:
            __import__(module)
        except Exception as exc:  # ImportError, or a broken install
            missing.append(f"Python module `{module}` is not importable ({exc.__class__.__name__}: {exc})")
    return missing


class BrowserTestError(AssertionError):
    """Raised when the browser, a notebook cell or the kernel reported an error."""


class KernelExecutionError(BrowserTestError):
    """Code sent with :meth:`Lab.run_code` raised in the kernel."""

    def __init__(self, code: str, ename: str, evalue: str, traceback: str, output: str):
        self.code = code
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback
        self.output = output
        super().__init__(
            f"kernel raised {ename}: {evalue}\n--- code ---\n{code}\n--- traceback ---\n{traceback}"
        )


# --------------------------------------------------------------------------------------------
# JupyterLab server
# --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


try:  # Linux: let the server die with the test process even when pytest is killed hard.
    import ctypes

    _LIBC = ctypes.CDLL("libc.so.6", use_errno=True)
except Exception:  # pragma: no cover - not glibc Linux
    _LIBC = None


def _die_with_parent() -> None:  # runs in the child between fork and exec
    # SIGKILL, not SIGTERM: a terminated Jupyter server can hang in "Shutting down extensions".
    # Its kernels then exit by themselves (ipykernel polls JPY_PARENT_PID).
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _descendant_pids(root_pid: int) -> list[int]:
    """All live descendants of ``root_pid`` (Linux /proc walk; kernels run in their own session)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            out.append(child)
            todo.append(child)
    return out


class LabServer:
    """A private JupyterLab server in its own process group.

    ``root_dir`` is the server's notebook root (a fresh temp dir); tests write notebooks there.
    ``log_path`` receives the server's (and its kernels') stdout/stderr.
    """

    def __init__(self, base_dir: Path | None = None, startup_timeout: float = 90.0):
        self.base_dir = Path(base_dir or tempfile.mkdtemp(prefix="prsg-lab-"))
        self.root_dir = self.base_dir / "root"
        self.config_dir = self.base_dir / "config"
        self.runtime_dir = self.base_dir / "runtime"
        self.settings_dir = self.base_dir / "settings"
        self.workspaces_dir = self.base_dir / "workspaces"
        self.ipython_dir = self.base_dir / "ipython"
        self.log_path = self.base_dir / "jupyterlab.log"
        self.token = secrets.token_hex(16)
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self._log_fh = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _write_config(self) -> None:
        for d in (self.root_dir, self.config_dir, self.runtime_dir, self.settings_dir,
                  self.workspaces_dir, self.ipython_dir):
            d.mkdir(parents=True, exist_ok=True)
        labconfig = self.config_dir / "labconfig"
        labconfig.mkdir(parents=True, exist_ok=True)
        (labconfig / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {p: True for p in DISABLED_LAB_PLUGINS}}, indent=1)
        )
        for plugin, values in LAB_USER_SETTINGS.items():
            if not values:
                continue
            pkg, name = plugin.rsplit("/", 1)
            target = self.settings_dir / pkg / f"{name}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values, indent=1))

    def start(self) -> LabServer:
        self._write_config()
        self.port = _free_port()
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(self.config_dir),
            JUPYTER_RUNTIME_DIR=str(self.runtime_dir),
            JUPYTERLAB_SETTINGS_DIR=str(self.settings_dir),
            JUPYTERLAB_WORKSPACES_DIR=str(self.workspaces_dir),
            IPYTHONDIR=str(self.ipython_dir),
            JUPYTER_PLATFORM_DIRS="1",
            PYTHONUNBUFFERED="1",
            # The kernel must import this checkout's package even when it is not pip-installed.
            PYTHONPATH=os.pathsep.join(
                p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
        )
        env.pop("JUPYTER_TOKEN", None)
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--allow-root", "--no-browser",
            "--ip=127.0.0.1", f"--port={self.port}",
            f"--IdentityProvider.token={self.token}",
            "--LabApp.expose_app_in_browser=True",
            # Notebook 7 (pip package `notebook`) serves /notebooks/ from the same server
            "--JupyterNotebookApp.expose_app_in_browser=True",
            f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            f"--LabApp.user_settings_dir={self.settings_dir}",
            f"--LabApp.workspaces_dir={self.workspaces_dir}",
            "--ServerApp.port_retries=50",
            "--ServerApp.terminals_enabled=False",
            "--LanguageServerManager.autodetect=False",
            # kernels talk over Unix sockets in our temp dir: no TCP port can be shared with a
            # kernel of another test session ("Invalid Signature" crosstalk seen under load)
            "--KernelManager.transport=ipc",
        ]
        self._log_fh = open(self.log_path, "ab", buffering=0)
        self.proc = subprocess.Popen(
            cmd, cwd=self.root_dir, env=env, stdin=subprocess.DEVNULL,
            stdout=self._log_fh, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent if _LIBC is not None else None,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with code {self.proc.returncode}:\n{self.log_tail()}"
                )
            # port_retries may have moved the server: trust the server info file.
            for info_file in self.runtime_dir.glob("jpserver-*.json"):
                try:
                    info = json.loads(info_file.read_text())
                except (OSError, ValueError):
                    continue
                if info.get("pid") == self.proc.pid:
                    self.port = int(info["port"])
            try:
                self.api("GET", "/api/status", timeout=2)
                self.api("GET", "/lab/api/settings", timeout=5)
                return
            except (OSError, urllib.error.URLError, ValueError):
                time.sleep(0.2)
        raise TimeoutError(
            f"JupyterLab not ready after {self.startup_timeout}s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                # Shut kernels down through the API first: they run in their own sessions,
                # so killing the server's process group would not reach them.
                self.shutdown_kernels()
            except Exception:
                pass
            leftovers = _descendant_pids(proc.pid)
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
            for pid in leftovers:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None

    # -- REST ------------------------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw.strip() else None

    def shutdown_kernels(self) -> None:
        """Delete every session and kernel (frees the 2 CPU cores between tests)."""
        for session in self.api("GET", "/api/sessions") or []:
            try:
                self.api("DELETE", f"/api/sessions/{session['id']}", timeout=20)
            except (OSError, urllib.error.URLError):
                pass
        for kernel in self.api("GET", "/api/kernels") or []:
            try:
                self.api("DELETE", f"/api/kernels/{kernel['id']}", timeout=20)
            except (OSError, urllib.error.URLError):
                pass

    # -- logs ------------------------------------------------------------------------------

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(offset)
                return fh.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n: int = 60) -> str:
        return "\n".join(self.log_since(0).splitlines()[-n:])


# --------------------------------------------------------------------------------------------
# Browser
# --------------------------------------------------------------------------------------------


def launch_chromium(playwright, headless: bool = True):
    """Launch Debian's chromium through Playwright (never `playwright install`)."""
    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("`chromium` is not on PATH")
    return playwright.chromium.launch(
        executable_path=executable, args=list(CHROMIUM_ARGS), headless=headless
    )


# --------------------------------------------------------------------------------------------
# JS snippets (all run inside the Lab page; `window.jupyterapp` is exposed by the server flag)
# --------------------------------------------------------------------------------------------

# Find the NotebookPanel whose document path is `path` (falls back to the current widget).
_JS_FIND_PANEL = """
const findPanel = (path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  for (const w of app.shell.widgets('main')) {
    if (w && w.context && w.context.path === path && w.content && w.content.model) return w;
  }
  return null;
};
"""

_JS_PANEL_STATE = _JS_FIND_PANEL + """
(path) => {
  const p = findPanel(path);
  if (!p) return {found: false};
  const sc = p.sessionContext;
  const kernel = sc && sc.session && sc.session.kernel;
  return {
    found: true,
    ready: !!(p.context.isReady && sc && sc.isReady),
    kernel: kernel ? kernel.status : null,
    connection: kernel ? kernel.connectionStatus : null,
    kernelName: kernel ? kernel.name : null,
  };
}
"""

_JS_RUN_ALL = _JS_FIND_PANEL + """
async (path) => {
  const app = window.jupyterapp;
  const p = findPanel(path);
  if (!p) throw new Error('notebook panel not found: ' + path);
  app.shell.activateById(p.id);
  await p.context.ready;
  await p.sessionContext.ready;
  // Not awaited here (a hanging cell must not hang page.evaluate): Python polls the state.
  window.__prsgRunAll = window.__prsgRunAll || {};
  const state = window.__prsgRunAll[path] = {done: false, ok: null, error: null};
  app.commands.execute('notebook:run-all-cells').then(
    (ok) => { state.ok = ok; state.done = true; },
    (err) => { state.error = String(err); state.done = true; });
  return true;
}
"""

# Record kernel output that belongs to no execute request -- i.e. produced while handling a
# comm message (a widget callback such as a trait observer fired by a click). ipykernel sends
# such tracebacks to stderr with the comm message as parent, and Lab silently drops them.
_JS_INSTALL_CALLBACK_LISTENER = _JS_FIND_PANEL + """
(path) => {
  const p = findPanel(path);
  if (!p) return false;
  window.__prsgCallbackOutput = window.__prsgCallbackOutput || {};
  if (window.__prsgCallbackOutput[path]) return true;
  const rec = window.__prsgCallbackOutput[path] = {stderr: '', errors: []};
  p.sessionContext.iopubMessage.connect((_, msg) => {
    const parentType = msg.parent_header && msg.parent_header.msg_type;
    if (!parentType || parentType === 'execute_request') return;
    const t = msg.header.msg_type, c = msg.content;
    if (t === 'error') {
      rec.errors.push(`${c.ename}: ${c.evalue}\\n${(c.traceback || []).join('\\n')}`);
    } else if (t === 'stream' && c.name === 'stderr') {
      rec.stderr += c.text;
    }
  });
  return true;
}
"""

_JS_CALLBACK_OUTPUT = """
(path) => (window.__prsgCallbackOutput && window.__prsgCallbackOutput[path]) || null
"""

_JS_CLEAR_CALLBACK_OUTPUT = """
(path) => {
  const rec = window.__prsgCallbackOutput && window.__prsgCallbackOutput[path];
  if (rec) { rec.stderr = ''; rec.errors = []; }
}
"""

# Per-cell execution state + problems found in outputs and in the rendered DOM.
_JS_CELL_REPORT = _JS_FIND_PANEL + """
(path) => {
  const p = findPanel(path);
  if (!p) return null;
  const cells = [];
  const model = p.content.model;
  for (let i = 0; i < model.cells.length; i++) {
    const cell = model.cells.get(i);
    if (cell.type !== 'code') continue;
    const outputs = cell.outputs.toJSON();
    const errors = [];
    const stderr = [];
    for (const o of outputs) {
      if (o.output_type === 'error') {
        errors.push({ename: o.ename, evalue: o.evalue, traceback: (o.traceback || []).join('\\n')});
      } else if (o.output_type === 'stream' && o.name === 'stderr') {
        stderr.push(Array.isArray(o.text) ? o.text.join('') : o.text);
      }
    }
    const source = cell.sharedModel.getSource();
    cells.push({
      index: i,
      empty: !source.trim(),
      executionCount: cell.executionCount,
      executionState: cell.executionState === undefined ? null : cell.executionState,
      errors, stderr,
    });
  }
  const widgetErrors = [];
  for (const node of p.node.querySelectorAll('.jp-OutputArea-output')) {
    const t = (node.textContent || '').trim();
    if (t.startsWith('Error displaying widget')) widgetErrors.push(t.slice(0, 300));
  }
  const sc = p.sessionContext;
  const kernel = sc && sc.session && sc.session.kernel;
  const runAll = (window.__prsgRunAll && window.__prsgRunAll[path]) || null;
  return {cells, widgetErrors, kernel: kernel ? kernel.status : null, runAll};
}
"""

# Execute code in the notebook's kernel (not as a notebook cell) and collect its output.
_JS_EXECUTE = _JS_FIND_PANEL + """
async ({path, code, timeoutMs}) => {
  const p = findPanel(path);
  if (!p) throw new Error('notebook panel not found: ' + path);
  const kernel = p.sessionContext.session && p.sessionContext.session.kernel;
  if (!kernel) throw new Error('notebook has no kernel: ' + path);
  const out = {stdout: '', stderr: '', results: [], error: null, status: null, timedOut: false};
  const future = kernel.requestExecute(
    {code, silent: false, store_history: false, allow_stdin: false, stop_on_error: false}, true);
  future.onIOPub = (msg) => {
    const t = msg.header.msg_type, c = msg.content;
    if (t === 'stream') { if (c.name === 'stderr') out.stderr += c.text; else out.stdout += c.text; }
    else if (t === 'execute_result' || t === 'display_data') {
      const d = c.data || {};
      if (d['text/plain'] !== undefined) out.results.push(String(d['text/plain']));
    }
    else if (t === 'error') {
      out.error = {ename: c.ename, evalue: c.evalue, traceback: (c.traceback || []).join('\\n')};
    }
  };
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
  try {
    const reply = await Promise.race([future.done, timeout]);
    if (reply === 'timeout') { out.timedOut = true; try { future.dispose(); } catch (e) {} }
    else { out.status = reply && reply.content ? reply.content.status : null; }
  } catch (e) {
    out.status = 'rejected';
    if (!out.error) out.error = {ename: 'FutureRejected', evalue: String(e), traceback: ''};
  } finally { clearTimeout(timer); }
  return out;
}
"""


# --------------------------------------------------------------------------------------------
# Per-test helper API
# --------------------------------------------------------------------------------------------


@dataclass
class PageRecord:
    """What the harness recorded for one opened page."""

    name: str  # notebook path relative to the server root
    page: Any
    page_errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)  # "type: text" for every console message
    console_errors: list[str] = field(default_factory=list)


class Lab:
    """Helper handed to each browser test by the ``lab`` fixture.

    One instance per test. Every opened notebook gets its own browser context (own cookies and
    localStorage: two Lab windows sharing a context would make Lab redirect the second one to a
    new workspace). Contexts are closed and every kernel is shut down when the test ends.
    """

    def __init__(self, server: LabServer, browser, artifacts_dir: Path, test_name: str,
                 default_timeout: float = DEFAULT_TIMEOUT, viewport: tuple[int, int] = (1280, 900)):
        self.server = server
        self.browser = browser
        self.artifacts_dir = Path(artifacts_dir)
        self.test_name = test_name
        self.default_timeout = default_timeout
        self.viewport = {"width": viewport[0], "height": viewport[1]}
        self.contexts: list[Any] = []
        self.records: dict[Any, PageRecord] = {}
        self._log_offset = server.log_size()
        self.timings: dict[str, float] = {}
        # Set False in tests that provoke errors on purpose (skips the check at teardown).
        self.check_at_teardown = True
        # Set True to treat console.error messages as failures too.
        self.fail_on_console_errors = False

    # -- notebooks -------------------------------------------------------------------------

    @property
    def root_dir(self) -> Path:
        return self.server.root_dir

    def write_notebook(self, cells: Iterable[str], name: str) -> Path:
        """Write a notebook of code cells (one string per cell) at ``root_dir/name``."""
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        target = self.root_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(target))
        return target

    def copy_into_root(self, src: str | os.PathLike, name: str | None = None) -> str:
        """Copy a file (e.g. ``notebooks/demo.ipynb``) into the server root; returns its name there."""
        src = Path(src)
        if not src.is_absolute():
            src = REPO_ROOT / src
        name = name or src.name
        target = self.root_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        return name

    def open_notebook(self, cells: list[str], name: str = "test.ipynb", *, run: bool = True,
                      timeout: float | None = None, ui: str = "lab", device_scale_factor: float = 1):
        """Write ``cells`` as a notebook ``name`` in the server root, open it in Lab, run all cells.

        ``ui="notebook"`` opens it in Notebook 7 (``/notebooks/<name>``) instead of Lab;
        ``device_scale_factor=2`` emulates a HiDPI screen.  Returns the Playwright ``Page``.
        Raises :class:`BrowserTestError` if a cell produced an error output, a widget failed to
        display, or the page threw.
        """
        self.write_notebook(cells, name)
        return self.open_existing(name, run=run, timeout=timeout, ui=ui, device_scale_factor=device_scale_factor)

    def open_notebook_file(self, src: str | os.PathLike, name: str | None = None, *,
                           run: bool = True, timeout: float | None = None):
        """Copy an existing .ipynb (path absolute or relative to the repo root) and open it."""
        return self.open_existing(self.copy_into_root(src, name), run=run, timeout=timeout)

    def open_existing(self, name: str, *, run: bool = True, timeout: float | None = None,
                      ui: str = "lab", device_scale_factor: float = 1):
        """Open ``root_dir/name`` in Lab (``?reset``) or in Notebook 7 (``ui="notebook"``), wait
        for an idle kernel, optionally run all.

        ``timeout`` (default ``default_timeout``: 120 s or $PRSG_BROWSER_TIMEOUT) bounds the
        whole call.
        """
        timeout = self.default_timeout if timeout is None else timeout
        t0 = time.monotonic()
        deadline = t0 + timeout
        context = self.browser.new_context(viewport=self.viewport, device_scale_factor=device_scale_factor,
                                           accept_downloads=True)
        context.set_default_timeout(ACTION_TIMEOUT * 1000)
        self.contexts.append(context)
        page = context.new_page()
        record = PageRecord(name=name, page=page)
        self.records[page] = record
        def _on_page_error(exc):
            text = _format_page_error(exc)
            if ui == "notebook" and _is_notebook7_startup_noise(text):
                record.console.append("ignored Notebook 7 startup error: " + text.splitlines()[0])
                return
            record.page_errors.append(text)

        page.on("pageerror", _on_page_error)

        def _on_console(msg):
            try:
                text = f"{msg.type}: {msg.text}"
            except Exception:  # page already gone
                return
            record.console.append(text)
            if msg.type == "error":
                record.console_errors.append(msg.text)

        page.on("console", _on_console)

        from urllib.parse import quote

        if ui == "notebook":
            url = f"{self.server.url}/notebooks/{quote(name)}?token={self.server.token}"
        elif ui == "lab":
            url = f"{self.server.url}/lab/tree/{quote(name)}?reset&token={self.server.token}"
        else:
            raise ValueError(f"ui must be 'lab' or 'notebook', got {ui!r}")
        page.goto(url, wait_until="domcontentloaded", timeout=_ms_left(deadline))
        self._wait_panel(page, name, deadline)
        self.timings["notebook_shown"] = time.monotonic() - t0
        self.wait_for_kernel_idle(page, timeout=deadline - time.monotonic())
        self.timings["kernel_idle"] = time.monotonic() - t0
        if run:
            self.run_all(page, timeout=deadline - time.monotonic())
            self.timings["cells_run"] = time.monotonic() - t0
        return page

    def _wait_panel(self, page, name: str, deadline: float) -> None:
        """Wait for the Lab app and for the notebook panel with its session to be ready.

        Tolerates a navigation while Lab starts (evaluate then fails with "Execution context
        was destroyed"; polling simply goes on in the new document).
        """
        state = None
        while time.monotonic() < deadline:
            self._raise_page_errors(page)
            try:
                state = page.evaluate(_JS_PANEL_STATE, name)
                if state.get("found") and state.get("ready"):
                    page.evaluate(_JS_INSTALL_CALLBACK_LISTENER, name)
                    return
            except Exception as exc:
                if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                    raise
                state = {"navigating": str(exc).splitlines()[0]}
            time.sleep(0.1)
        raise TimeoutError(f"notebook {name!r} not open/ready in time (last state {state})")

    def wait_for_kernel_idle(self, page, timeout: float | None = None, settle: float = 0.3) -> None:
        """Wait until the notebook's kernel is connected and 'idle' for ``settle`` s in a row."""
        timeout = max(1.0, self.default_timeout if timeout is None else timeout)
        name = self._record(page).name
        deadline = time.monotonic() + timeout
        idle_since = None
        state = None
        while time.monotonic() < deadline:
            self._raise_page_errors(page)
            state = page.evaluate(_JS_PANEL_STATE, name)
            if state.get("kernel") in ("dead", "autorestarting"):
                raise BrowserTestError(f"kernel is {state['kernel']}:\n{self._server_log()}")
            if state.get("kernel") == "idle" and state.get("connection") == "connected":
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= settle:
                    return
            else:
                idle_since = None
            time.sleep(0.1)
        raise TimeoutError(f"kernel of {name!r} not idle after {timeout:.1f}s (last state {state})")

    def run_all(self, page, timeout: float | None = None) -> None:
        """Run every cell (Lab command ``notebook:run-all-cells``), wait until done, check errors."""
        timeout = max(1.0, self.default_timeout if timeout is None else timeout)
        name = self._record(page).name
        deadline = time.monotonic() + timeout
        # Starts the command; its promise resolves once every cell has finished (or one failed,
        # which makes the kernel abort the rest). Python polls, so a hanging cell times out.
        page.evaluate(_JS_RUN_ALL, name)
        report = None
        while time.monotonic() < deadline:
            self._raise_page_errors(page)
            report = page.evaluate(_JS_CELL_REPORT, name)
            self._raise_cell_errors(report, name)
            run_state = report.get("runAll") or {}
            if run_state.get("error"):
                raise BrowserTestError(f"notebook:run-all-cells failed: {run_state['error']}")
            if run_state.get("done") and run_state.get("ok") is False:
                # Error outputs arrive before the execute reply, so a failing cell was caught
                # above; this is e.g. a cell aborted because the kernel died or restarted.
                raise BrowserTestError(
                    f"notebook:run-all-cells reported failure for {name} "
                    f"(no error output found):\n{report}\n{self._server_log()}"
                )
            done = run_state.get("done") and all(
                c["empty"]
                or (c["executionCount"] is not None and c["executionState"] in (None, "idle"))
                for c in report["cells"]
            )
            if done and report["kernel"] == "idle":
                break
            time.sleep(0.1)
        else:
            running = [c["index"] for c in report["cells"] if c["executionState"] == "running"]
            raise TimeoutError(
                f"cells of {name!r} not finished after {timeout:.1f}s (still running: {running}; "
                f"note Lab's kernel status can read 'idle' while a cell runs): {report}"
            )
        self.wait_for_kernel_idle(page, timeout=max(1.0, deadline - time.monotonic()))
        self.check_errors(page)

    # -- kernel access ---------------------------------------------------------------------

    def run_code(self, page, code: str, timeout: float = 30.0, *, allow_error: bool = False) -> str:
        """Execute ``code`` in the notebook's kernel (not as a cell) and return its text output.

        The returned string is stdout followed by the ``text/plain`` of any execute_result /
        display_data (e.g. the value of a trailing expression), each result on its own line.
        stderr is not returned (see :meth:`run_code_full`). Raises :class:`KernelExecutionError`
        if the code raised (unless ``allow_error``) and ``TimeoutError`` on timeout.
        """
        res = self.run_code_full(page, code, timeout=timeout, allow_error=allow_error)
        text = res["stdout"]
        for r in res["results"]:
            if text and not text.endswith("\n"):
                text += "\n"
            text += r
        return text

    def run_code_full(self, page, code: str, timeout: float = 30.0, *,
                      allow_error: bool = False) -> dict:
        """Like :meth:`run_code` but returns ``{"stdout", "stderr", "results", "error", "status"}``."""
        self._raise_page_errors(page)
        name = self._record(page).name
        res = page.evaluate(_JS_EXECUTE, {"path": name, "code": code, "timeoutMs": int(timeout * 1000)})
        if res["timedOut"]:
            raise TimeoutError(f"kernel code did not finish within {timeout}s:\n{code}")
        if res["error"] and not allow_error:
            err = res["error"]
            raise KernelExecutionError(
                code, err["ename"], err["evalue"], strip_ansi(err["traceback"]), res["stdout"]
            )
        return res

    def eval_python(self, page, expr: str, timeout: float = 30.0) -> Any:
        """Evaluate a Python expression in the kernel and return its value on this side.

        The value travels as ``repr`` and is rebuilt with ``ast.literal_eval`` (numpy scalars and
        arrays are converted with ``.tolist()`` first). If the repr is not a literal, the repr
        *string* is returned.
        """
        code = (
            "def __prsg_value():\n"
            f"    __v = ({expr})\n"
            "    if hasattr(__v, 'tolist') and not isinstance(__v, (str, bytes)):\n"
            "        try:\n"
            "            __v = __v.tolist()\n"
            "        except Exception:\n"
            "            pass\n"
            f"    print({_VALUE_BEGIN!r} + repr(__v) + {_VALUE_END!r})\n"
            "__prsg_value(); del __prsg_value\n"
        )
        out = self.run_code(page, code, timeout=timeout)
        start = out.rfind(_VALUE_BEGIN)
        end = out.rfind(_VALUE_END)
        if start < 0 or end < start:
            raise BrowserTestError(f"no value came back for {expr!r}; output was:\n{out}")
        text = out[start + len(_VALUE_BEGIN):end]
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return text

    def wait_for_python(self, page, expr: str, expected: Any = True, timeout: float = 15.0,
                        interval: float = 0.2) -> Any:
        """Poll ``expr`` in the kernel until it equals ``expected``; return the last value.

        ``expected`` may be a value (compared with ``==`` after :meth:`eval_python`'s
        conversion) or a callable predicate ``f(value) -> bool``. Page errors abort the wait
        at once. On timeout raises ``AssertionError`` showing the last value seen.
        """
        check: Callable[[Any], bool] = expected if callable(expected) else (lambda v: v == expected)
        deadline = time.monotonic() + timeout
        last: Any = "<never evaluated>"
        while True:
            remaining = deadline - time.monotonic()
            last = self.eval_python(page, expr, timeout=max(5.0, remaining))
            if check(last):
                return last
            self._raise_page_errors(page)
            self._raise_callback_errors(page)
            if time.monotonic() >= deadline:
                break
            time.sleep(interval)
        self._raise_page_errors(page)
        want = getattr(expected, "__name__", "predicate") if callable(expected) else repr(expected)
        raise AssertionError(
            f"Python expression {expr!r} was {last!r} after {timeout}s; expected {want}"
        )

    # -- DOM helpers -----------------------------------------------------------------------

    def cell_output(self, page, index: int):
        """Locator for the output area of the ``index``-th cell (all cells count, 0-based)."""
        return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(
            index
        ).locator(".jp-OutputArea")

    # -- artifacts -------------------------------------------------------------------------

    def screenshot(self, page, name: str, *, full_page: bool = False, locator=None) -> Path:
        """Save a PNG under ``tests/widgets/browser/artifacts/<test module>/<test>/<name>.png``; return it."""
        target = self._artifact_dir() / f"{_safe_name(name)}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if locator is not None:
            locator.screenshot(path=str(target))
        else:
            page.screenshot(path=str(target), full_page=full_page)
        return target

    def save_failure_artifacts(self) -> list[Path]:
        """Screenshot every open page and write console/server logs (called on test failure)."""
        saved = []
        base = self._artifact_dir()
        base.mkdir(parents=True, exist_ok=True)
        for i, rec in enumerate(self.records.values()):
            try:
                saved.append(self.screenshot(rec.page, f"failure-{i}-{rec.name}"))
            except Exception:
                pass
            log = base / f"failure-{i}-{_safe_name(rec.name)}.console.txt"
            log.write_text(
                "\n".join(rec.console) + "\n\n--- page errors ---\n" + "\n".join(rec.page_errors)
            )
            saved.append(log)
        server_log = base / "failure-server.log"
        server_log.write_text(self._server_log())
        saved.append(server_log)
        return saved

    def _artifact_dir(self) -> Path:
        # test_name is "<module stem>/<test name>" from the fixture; each part is sanitised.
        return self.artifacts_dir.joinpath(*(_safe_name(p) for p in self.test_name.split("/")))

    # -- error checks ----------------------------------------------------------------------

    def _record(self, page) -> PageRecord:
        try:
            return self.records[page]
        except KeyError:
            raise ValueError("page was not opened through this Lab helper") from None

    def _server_log(self) -> str:
        return self.server.log_since(self._log_offset)

    def _raise_page_errors(self, page) -> None:
        rec = self._record(page)
        if rec.page_errors:
            raise BrowserTestError(
                f"uncaught error(s) in the page for {rec.name}:\n" + "\n\n".join(rec.page_errors)
            )
        if self.fail_on_console_errors and rec.console_errors:
            raise BrowserTestError(
                f"console error(s) in the page for {rec.name}:\n" + "\n".join(rec.console_errors)
            )

    def callback_output(self, page) -> dict:
        """Kernel output produced by widget callbacks so far: ``{"stderr": str, "errors": [str]}``."""
        rec = self._record(page)
        if page.is_closed():
            return {"stderr": "", "errors": []}
        return page.evaluate(_JS_CALLBACK_OUTPUT, rec.name) or {"stderr": "", "errors": []}

    def _raise_callback_errors(self, page) -> None:
        out = self.callback_output(page)
        problems = list(out["errors"])
        if "Traceback (most recent call last)" in out["stderr"]:
            problems.append(out["stderr"])
        if problems:
            raise BrowserTestError(
                f"a widget callback raised in the kernel of {self._record(page).name}:\n"
                + "\n\n".join(strip_ansi(p) for p in problems)
            )

    def clear_errors(self, page=None) -> None:
        """Forget errors recorded so far (page errors, console errors, callback tracebacks,
        server log). Cell error outputs stay in the notebook: they are not "recorded".
        """
        pages = [page] if page is not None else list(self.records)
        for p in pages:
            rec = self._record(p)
            rec.page_errors.clear()
            rec.console_errors.clear()
            if not p.is_closed():
                p.evaluate(_JS_CLEAR_CALLBACK_OUTPUT, rec.name)
        self._log_offset = self.server.log_size()

    @staticmethod
    def _raise_cell_errors(report: dict | None, name: str) -> None:
        if not report:
            return
        problems = []
        for c in report["cells"]:
            for e in c["errors"]:
                problems.append(
                    f"cell {c['index']}: {e['ename']}: {e['evalue']}\n{strip_ansi(e['traceback'])}"
                )
            for s in c["stderr"]:
                if "Traceback (most recent call last)" in s:
                    problems.append(f"cell {c['index']} stderr:\n{s}")
        for w in report["widgetErrors"]:
            problems.append(f"widget: {w}")
        if problems:
            raise BrowserTestError(f"errors in notebook {name}:\n" + "\n\n".join(problems))

    def kernel_log_errors(self) -> list[str]:
        """Tracebacks in the server log (server and kernel processes' own stderr) since the
        test started, e.g. a failing server handler or a crashing kernel. (Exceptions in widget
        callbacks go over iopub instead: see :meth:`callback_output`.)
        """
        log = self._server_log()
        chunks = []
        for m in re.finditer(r"Traceback \(most recent call last\):", log):
            start = log.rfind("\n", 0, max(0, m.start() - 1)) + 1
            chunks.append(log[start:m.start() + 2000])
        return chunks

    def check_errors(self, page=None) -> None:
        """Raise :class:`BrowserTestError` if any page threw, any cell shows an error output or a
        traceback on stderr, a widget shows "Error displaying widget", a widget callback raised
        in the kernel, or the server/kernel log got a traceback since the test started.
        """
        pages = [page] if page is not None else list(self.records)
        for p in pages:
            self._raise_page_errors(p)
            if p.is_closed():
                continue
            report = p.evaluate(_JS_CELL_REPORT, self._record(p).name)
            self._raise_cell_errors(report, self._record(p).name)
            self._raise_callback_errors(p)
        tracebacks = self.kernel_log_errors()
        if tracebacks:
            raise BrowserTestError(
                "kernel/server logged traceback(s) during the test:\n" + "\n\n".join(tracebacks)
            )

    # -- teardown --------------------------------------------------------------------------

    def close(self) -> None:
        for context in self.contexts:
            try:
                context.close()
            except Exception:
                pass
        try:
            self.server.shutdown_kernels()
        except Exception:
            pass


# Notebook 7.6 throws these two while it starts under this harness's private settings folder
# and URL (a settings plugin without a schema; its tree page's `filebrowser:open-path`, absent on
# a notebook page). Both come from Notebook's own bundle, before any cell runs; anything else,
# and anything from a widget, still fails the test.
_NOTEBOOK7_STARTUP_NOISE = (
    "Cannot read properties of undefined (reading 'schema')",
    "Command 'filebrowser:open-path' not registered.",
)


def _is_notebook7_startup_noise(text: str) -> bool:
    first = text.splitlines()[0] if text else ""
    return any(msg in first for msg in _NOTEBOOK7_STARTUP_NOISE) and "/static/notebook/" in text


def _format_page_error(exc: Any) -> str:
    name = getattr(exc, "name", "") or "Error"
    message = getattr(exc, "message", None) or str(exc)
    stack = getattr(exc, "stack", "") or ""
    head = f"{name}: {message}"
    if stack and (stack.startswith(head) or (message and message in stack.split("\n", 1)[0])):
        return stack.strip()
    return f"{head}\n{stack}".strip()


def _ms_left(deadline: float) -> float:
    return max(1.0, deadline - time.monotonic()) * 1000


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:120] or "unnamed"
