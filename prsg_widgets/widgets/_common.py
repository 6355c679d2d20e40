"""Plumbing shared by the widgets: main-thread scheduling, the glossary, which explanation a
view shows, the views' ES modules and the grid view base class (image bytes: ``_images``).

Nothing here computes a paper quantity: images are only converted to bytes for display, and
results come from :class:`~prsg_widgets.Explanation` and :mod:`prsg_widgets.metrics`.
"""
from __future__ import annotations

import functools
import html
import itertools
import json
import logging
import pathlib
import secrets
import threading
from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

from ..palette import js_constants
from ._images import ArrayLike, decode_rgba, float32_bytes, rgba_bytes, signed_rgba_bytes  # noqa: F401

STATIC = pathlib.Path(__file__).parent / "static"
CSS = STATIC / "prsg.css"
log = logging.getLogger("prsg_widgets")

# ---------------------------------------------------------------------------------- threads
def _kernel_loop():
    """The kernel's main IO loop (tornado), or ``None`` outside a Jupyter kernel."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipywidgets
        return None
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    return getattr(kernel, "io_loop", None)



def show_errors(action: Callable[[], Any], note: Any, prefix: str) -> None:
    """Run a button's ``action``; an error is shown in the ``note`` HTML widget instead of being
    raised into the kernel's log, where a user of the view never sees it.
    """
    try:
        action()
    except Exception as exc:
        note.value = f"<span class='prsg-status error'>{prefix}{html.escape(str(exc))}</span>"

class MainThreadCaller:
    """Run a refresh function on the kernel's main thread, coalescing bursts of requests.

    Solver results arrive on the worker thread; widget state is changed only on the main thread
    (between cell executions), so a click and a result never race.  Outside a kernel (plain
    Python, pytest) the call happens at once, under a lock.
    """

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._fn = fn
        self._pending = False
        self._lock = threading.Lock()

    def __call__(self) -> None:
        loop = _kernel_loop()
        if loop is None or threading.current_thread() is threading.main_thread():
            with self._lock:
                self._fn()
            return
        with self._lock:
            if self._pending:
                return
            self._pending = True
        loop.add_callback(self._run)

    def _run(self) -> None:
        with self._lock:
            self._pending = False
            self._fn()


def popcount(s: int) -> int:
    return bin(int(s)).count("1")


def model_value_range(explanation_or_explainer) -> tuple[float, float]:
    """The generator's output range (DCGAN: ``(-1, 1)``) for turning images into bytes."""
    ex = getattr(explanation_or_explainer, "explainer", explanation_or_explainer)
    gen = getattr(ex, "generator", None)
    rng = getattr(gen, "value_range", None)
    return (float(rng[0]), float(rng[1])) if rng is not None else (-1.0, 1.0)


def grid_edges(grid) -> dict[str, list[int]]:
    """Pixel edges of the patch grid (uneven when P does not divide the image size)."""
    return {"row_edges": [int(v) for v in grid.row_edges()], "col_edges": [int(v) for v in grid.col_edges()]}


# ---------------------------------------------------------------------------------- views
GLOSSARY: dict[str, str] = {
    "OR interaction": "An OR Harsanyi interaction I(S) is the part of the feature that is needed as soon as ANY "
                      "patch of S must be regenerated. The feature minus the baseline is the sum of all of them "
                      "(Eq. 6/7).",
    "feature component": "I(S): one OR Harsanyi interaction, a vector the size of the feature. Removing it from f_N "
                         "changes the image mostly inside its action field.",
    "minimal feature": "f_T: the smallest change of the baseline b that still regenerates every patch of T within "
                       "ε (Eq. 5/10). The components are computed from the 2^n minimal features.",
    "action field": "A(S): the patches of S, outlined in magenta. The component of S is expected to act there.",
    "regional pattern": "Δx_S = g(f_N) − g(f_N − I(S)): what the image loses without the component. Signed: grey is "
                        "0, lighter adds brightness, darker removes it; each tile is scaled to its own max |Δx|.",
    "dense control": "The same pipeline on a random feature of the same shape and statistics (App. I). Its curve "
                     "must be visibly denser than the real components' curves.",
    "epsilon": "ε: the mean squared error each patch of T may keep when f_T regenerates it (images in [-1, 1]).",
    "sqrt epsilon": "√ε: the same tolerance as an RMSE, the dashed line of the RMSE plot.",
    "rho": "ρ(S): share of the regional pattern's L1 mass inside the action field (Sec. 3.2.1). 'area' is what a "
           "pattern spread evenly over the image would get.",
    "transferability": "|A_a ∩ A_b| / k_a: how many of image a's top-k_a action fields are also among image b's "
                       "top-k_b (Sec. 3.4). With few patches (n = 4: 15 action fields) a high ratio is easy — "
                       "compare it with chance.",
    "chance": "The ratio expected if image b's top-k_b action fields were drawn at random: k_b / (2^n − 1).",
    "reconstruction": "x̂ = g(b + the top-k components whose action field meets T). With k = 0 it is g(b), the "
                      "blurry 'average image'; T sharpens as components are added.",
    "sparsity": "Every element of every component, |value| sorted from largest: a curve that falls fast means few "
                "elements carry the components (Fig. 3).",
    "nested": "Nested solving: subsets by increasing size, each bounded below by its smaller subsets — 3–7× fewer "
              "iterations at n = 9 on a CPU, but it also makes random features look sparse.",
    "cancellation": "Σ‖I(S)‖₁ / ‖u(N)‖₁: 1 when components never cancel; ≫ 1 means large components offset each other.",
    "matching error": "Σ_T‖u(T) − û(T)‖² / Σ_T‖u(T)‖² with only the top-k components (Sec. 3.1): small means the "
                      "top components suffice.",
}
"""Plain-language help for the terms on screen (the ⓘ popovers of every view)."""


_INFO_IDS = itertools.count(1)
_INFO_PREFIX = f"prsg-gloss-{secrets.token_hex(3)}"  # ids stay unique across kernels on one page


def info_html(term: str) -> str:
    """An ⓘ that shows the glossary entry ``term`` on hover or focus (``.prsg-info``): a button
    named "about <term>" for screen readers, described by its popover; the views' ``a11yScope``
    (``common.js``) gives it its keys (Enter/Space show or hide the popover, Escape hides it).
    """
    text = html.escape(GLOSSARY[term])
    pop = f"{_INFO_PREFIX}-{next(_INFO_IDS)}"
    name = html.escape(f"about {term}")
    return (f"<span class='prsg-info' tabindex='0' role='button' aria-label='{name}' aria-describedby='{pop}' "
            f"data-term='{html.escape(term)}' title='{text}'>i"
            f"<span class='prsg-pop' role='tooltip' id='{pop}'>{text}</span></span>")


def caption(explanation: Any) -> str:
    """Which explanation a view shows: ``model · seed · N`` (plain text; a loaded explanation
    without an explainer names the model of its metadata).
    """
    ex = getattr(explanation, "explainer", None)
    gen = getattr(ex, "generator", None)
    model = getattr(gen, "name", None) or explanation.meta.get("model", "loaded from file")
    seed = getattr(explanation.sample, "seed", None)
    label = getattr(explanation.sample, "label", "") or ("seed " + str(seed) if seed is not None else "")
    if seed is not None and label != f"seed {seed}":
        label = f"{label} (seed {seed})" if label else f"seed {seed}"
    return f"{model} · {label or 'sample'} · N = {{{', '.join(map(str, explanation.patches))}}}"


@functools.cache
def esm(name: str) -> str:
    """The ES module of the view ``static/<name>``: ``static/common.js`` (the helpers every view
    uses) followed by the view's own file.  anywidget loads a view from one string, so the files
    cannot import each other without a build step; concatenating keeps each helper in one place.
    """
    common = (STATIC / "common.js").read_text(encoding="utf-8")
    glossary = "const GLOSSARY = " + json.dumps(GLOSSARY, ensure_ascii=False) + ";\n"
    return common + "\n" + glossary + js_constants() + (STATIC / name).read_text(encoding="utf-8")


class GridView(anywidget.AnyWidget):
    """Base of the views drawn over an image with its patch grid: the image size and the grid's
    pixel edges, which the views' ``common.js`` helpers read to place cells and outlines.
    """

    _css = CSS

    width = traitlets.Int(0).tag(sync=True)
    height = traitlets.Int(0).tag(sync=True)
    grid_size = traitlets.Int(6).tag(sync=True)
    row_edges = traitlets.List(traitlets.Int()).tag(sync=True)
    col_edges = traitlets.List(traitlets.Int()).tag(sync=True)
    export_stem = traitlets.Unicode("").tag(sync=True)
    """The name of the view's PNG export, without ``.png`` (``_export.export_stem``)."""

    def set_grid(self, grid, width: int, height: int) -> None:
        """Show images of ``width × height`` pixels cut by ``grid`` (a :class:`PatchGrid`); call
        under ``hold_sync`` together with the image so the view redraws once.
        """
        self.width, self.height = int(width), int(height)
        self.grid_size = grid.size
        edges = grid_edges(grid)
        self.row_edges, self.col_edges = edges["row_edges"], edges["col_edges"]


def short_text(bundle, text: str):
    """A widget's display bundle with ``text`` as its plain-text form: what a saved notebook
    shows where widgets do not render (instead of the ``repr`` of every child widget).
    """
    if isinstance(bundle, dict) and "text/plain" in bundle:
        bundle["text/plain"] = text
    return bundle


def status_html(text: str, error: bool = False) -> str:
    """The status line of the composite widgets (``.prsg-status``; red when ``error``)."""
    return f"<span class='prsg-status{' error' if error else ''}'>{text}</span>"


