"""Plumbing shared by the widgets: lossless image buffers, main-thread scheduling, readiness,
the views' ES modules and base classes.

Nothing here computes a paper quantity: images are only converted to bytes for display, and
results come from :class:`~prsg_widgets.Explanation` and :mod:`prsg_widgets.metrics`.
"""
from __future__ import annotations

import functools
import html
import json
import logging
import math
import time
import pathlib
import threading
from typing import Any, Callable, Iterable, Optional, Sequence, Union

import anywidget
import ipywidgets as widgets
import numpy as np
import torch
import traitlets

ArrayLike = Union[np.ndarray, torch.Tensor]

STATIC = pathlib.Path(__file__).parent / "static"
CSS = STATIC / "prsg.css"
log = logging.getLogger("prsg_widgets")


# ---------------------------------------------------------------------------------- images
def _to_hwc(image: ArrayLike) -> np.ndarray:
    """A tensor ``(C, H, W)`` (the package's layout), or an array ``(H, W, C)`` / ``(C, H, W)`` /
    ``(H, W)``, as ``(H, W, C)``.  A 3-D array is taken as channel-last when its last axis has
    1, 3 or 4 entries, else as channel-first."""
    channel_first = isinstance(image, torch.Tensor)
    if channel_first:
        image = image.detach().cpu().numpy()
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    elif arr.ndim == 3:
        if channel_first or arr.shape[2] not in (1, 3, 4):
            arr = np.transpose(arr, (1, 2, 0))
    else:
        raise ValueError(f"an image must have 2 or 3 dimensions, got shape {arr.shape}")
    if arr.shape[2] not in (1, 3, 4):
        raise ValueError(f"an image needs 1, 3 or 4 channels, got shape {arr.shape}")
    return arr


def rgba_bytes(image: ArrayLike, value_range: Sequence[float] = (-1.0, 1.0)) -> tuple[bytes, int, int]:
    """An image as raw RGBA ``uint8`` bytes (row-major, 4 bytes a pixel) plus ``(width, height)``.

    ``image`` is ``(C, H, W)`` (torch layout) or ``(H, W, C)`` or ``(H, W)``, with values in
    ``value_range``; a ``uint8`` array is taken as is.  Raw bytes drawn through ``ImageData``
    keep every pixel exact (no JPEG step, unlike ``ipycanvas.put_image_data`` on RGB).
    """
    arr = _to_hwc(image)
    if arr.dtype == np.uint8:
        u8 = arr
    else:
        lo, hi = float(value_range[0]), float(value_range[1])
        if not hi > lo:
            raise ValueError(f"value_range must be increasing, got {value_range}")
        scaled = (arr.astype(np.float64) - lo) / (hi - lo)
        u8 = np.clip(np.rint(np.nan_to_num(scaled) * 255.0), 0, 255).astype(np.uint8)
    h, w, c = u8.shape
    if c == 1:
        u8 = np.repeat(u8, 3, axis=2)
    if u8.shape[2] == 3:
        u8 = np.concatenate([u8, np.full((h, w, 1), 255, np.uint8)], axis=2)
    return np.ascontiguousarray(u8).tobytes(), w, h


def signed_rgba_bytes(delta: ArrayLike, scale: Optional[float] = None) -> tuple[bytes, int, int]:
    """A signed difference image (e.g. a regional pattern ``Δx_S``) as RGBA bytes: 0 is mid-grey,
    ``±scale`` (default ``max|Δx|``) the ends of the range — a display normalisation only."""
    arr = _to_hwc(delta).astype(np.float64)
    if scale is None:
        scale = float(np.nanmax(np.abs(arr))) if arr.size else 0.0
    if not scale > 0:
        scale = 1.0
    return rgba_bytes(arr, (-scale, scale))


def decode_rgba(data: bytes, width: int, height: int) -> np.ndarray:
    """Inverse of :func:`rgba_bytes`: ``(H, W, 4)`` ``uint8`` (used by tests and callers)."""
    arr = np.frombuffer(bytes(data), dtype=np.uint8)
    if arr.size != width * height * 4:
        raise ValueError(f"{arr.size} bytes do not make a {width}×{height} RGBA image")
    return arr.reshape(height, width, 4)


def float32_bytes(values: ArrayLike) -> bytes:
    """A 1-D float array as little-endian ``float32`` bytes (read in JS as ``Float32Array``)."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(values, dtype="<f4").reshape(-1)).tobytes()


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
    raised into the kernel's log, where a user of the view never sees it."""
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


def info_html(term: str) -> str:
    """An (i) icon that shows the glossary entry ``term`` on hover or focus (``.prsg-info``)."""
    text = html.escape(GLOSSARY[term])
    return (f"<span class='prsg-info' tabindex='0' data-term='{html.escape(term)}' title='{text}'>i"
            f"<span class='prsg-pop'>{text}</span></span>")


def describe(explanation: Any) -> str:
    """Which explanation a view shows: ``model · seed · N`` (plain text)."""
    ex = getattr(explanation, "explainer", None)
    gen = getattr(ex, "generator", None)
    model = getattr(gen, "name", None) or explanation.meta.get("model", "loaded from file")
    seed = getattr(explanation.sample, "seed", None)
    label = getattr(explanation.sample, "label", "") or ("seed " + str(seed) if seed is not None else "")
    if seed is not None and label != f"seed {seed}":
        label = f"{label} (seed {seed})" if label else f"seed {seed}"
    return f"{model} · {label or 'sample'} · N = {{{', '.join(map(str, explanation.patches))}}}"


SPEED: dict[int, float] = {}
"""Measured seconds per minimal feature, per explainer (``id``), for the estimates before a solve."""


@functools.lru_cache(maxsize=None)
def esm(name: str) -> str:
    """The ES module of the view ``static/<name>``: ``static/common.js`` (the helpers every view
    uses) followed by the view's own file.  anywidget loads a view from one string, so the files
    cannot import each other without a build step; concatenating keeps each helper in one place."""
    common = (STATIC / "common.js").read_text(encoding="utf-8")
    glossary = "const GLOSSARY = " + json.dumps(GLOSSARY, ensure_ascii=False) + ";\n"
    return common + "\n" + glossary + (STATIC / name).read_text(encoding="utf-8")


class GridView(anywidget.AnyWidget):
    """Base of the views drawn over an image with its patch grid: the image size and the grid's
    pixel edges, which the views' ``common.js`` helpers read to place cells and outlines."""

    _css = CSS

    width = traitlets.Int(0).tag(sync=True)
    height = traitlets.Int(0).tag(sync=True)
    grid_size = traitlets.Int(6).tag(sync=True)
    row_edges = traitlets.List(traitlets.Int()).tag(sync=True)
    col_edges = traitlets.List(traitlets.Int()).tag(sync=True)

    def set_grid(self, grid, width: int, height: int) -> None:
        """Show images of ``width × height`` pixels cut by ``grid`` (a :class:`PatchGrid`); call
        under ``hold_sync`` together with the image so the view redraws once."""
        self.width, self.height = int(width), int(height)
        self.grid_size = grid.size
        edges = grid_edges(grid)
        self.row_edges, self.col_edges = edges["row_edges"], edges["col_edges"]


def status_html(text: str, error: bool = False) -> str:
    """The status line of the composite widgets (``.prsg-status``; red when ``error``)."""
    return f"<span class='prsg-status{' error' if error else ''}'>{text}</span>"


class LiveView:
    """Mixin of the composite widgets that show explanations while they are solved: a progress
    bar and status line with speed and ETA, a Cancel / Resume button, the line saying which
    explanation the view shows (and whether it is stale), a listener that refreshes (on the main
    thread) as results land, the background solves queued when ``solve`` is set, and errors shown
    rather than raised.

    Subclasses call :meth:`_init_live` before building their layout, :meth:`_watch` whenever
    they show other explanations, and implement ``_refresh()``."""

    solve: bool

    def _init_live(self, title: str, progress_width: str, term: Optional[str] = None) -> widgets.VBox:
        """Set up the live state and return the header: ``title`` (with the glossary ⓘ of
        ``term``), progress bar, status line, Cancel button; under it the identity line."""
        self.error: Optional[BaseException] = None
        self.futures: list[Any] = []
        self._listener: Optional[Callable[[Any, list[int]], None]] = None
        self._watched: list[Any] = []
        self._refresher = MainThreadCaller(self.refresh)
        self._t0 = time.monotonic()
        self._done0 = 0
        self._steps0 = 0
        self._last_land = (time.monotonic(), 0)
        self._ticker = None
        self._bar, self._flight_count = 0.0, 0
        self._flight: list[int] = []
        self._flight_of: Any = None
        self._landed_in: Any = None
        self._flight_done = 0
        self._mark: dict[int, int] = {}
        self.stale = False
        self.eta: Optional[float] = None
        """Seconds left by the measured speed (``None``: unknown or finished)."""
        self.progress = widgets.FloatProgress(value=0, min=0, max=1, description="solve",
                                              layout=widgets.Layout(width=progress_width))
        self.progress.add_class("prsg-progress")
        self.status = widgets.HTML("")
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", tooltip=(
            "stop the solver (finished minimal features are kept; Resume continues). It stops this "
            "explainer's queue, so every view sharing it stops too."), layout=widgets.Layout(width="90px"))
        self.cancel_button.add_class("prsg-cancel")
        self.cancel_button.on_click(lambda _b: self._on_cancel_click())
        self.cancel_button.layout.display = "none"
        self.identity = widgets.HTML("")
        self.identity.add_class("prsg-identity")
        self.svg_button = widgets.Button(description="SVG", icon="download", tooltip=(
            "save this view's paper figure (matplotlib) as an SVG in the notebook's folder"),
            layout=widgets.Layout(width="80px"))
        self.svg_button.add_class("prsg-svg")
        self.svg_button.on_click(lambda _b: self._on_svg_click())
        self.svg_path: Optional[str] = None
        self.svg_note = widgets.HTML("")
        head = widgets.HBox([widgets.HTML(f"<b>{title}</b>" + (" " + info_html(term) if term else ""),
                                          layout=widgets.Layout(flex="none")),
                             self.progress, self.status, self.cancel_button],
                            layout=widgets.Layout(align_items="center", flex_flow="row wrap"))
        line = widgets.HBox([self.identity, self.svg_button, self.svg_note],
                            layout=widgets.Layout(align_items="center", flex_flow="row wrap"))
        return widgets.VBox([head, line])

    # ------------------------------------------------------------------ SVG export
    def _figure(self):  # pragma: no cover - every subclass implements it
        """The matplotlib figure of the paper that this view shows (``prsg_widgets.figures``)."""
        raise NotImplementedError

    def save_svg(self, path: Optional[str] = None) -> str:
        """Save the view's paper figure (matplotlib, :mod:`prsg_widgets.figures`) as an SVG;
        default name: the view and what it shows, in the current folder.  Returns the path."""
        fig = self._figure()
        if path is None:
            what = self.shows[0] if self.shows else "view"
            stem = type(self).__name__ + "-" + what
            path = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem).strip("_") + ".svg"
        fig.savefig(path, format="svg")
        self.svg_path = str(path)
        self.svg_note.value = f"<span class='prsg-muted'>saved {html.escape(str(path))}</span>"
        return str(path)

    def _on_svg_click(self) -> None:
        show_errors(self.save_svg, self.svg_note, "SVG: ")

    # ------------------------------------------------------------------ identity / stale
    def _shown(self) -> list[Any]:
        """The explanations this view shows (for the identity line); override when it differs."""
        return [e for e in self._watched if getattr(e, "sample", None) is None or e.sample.label != "dense control"]

    @property
    def shows(self) -> list[str]:
        """Which explanations the view shows, as its identity line says (``model · seed · N``)."""
        return [describe(e) for e in self._shown()]

    def _show_identity(self) -> None:
        parts = " &nbsp;|&nbsp; ".join(html.escape(t) for t in self.shows) or "no explanation"
        stale = ("<span class='prsg-stale-badge' title='the dashboard’s seed or patches changed since this "
                 "was computed'>⚠ stale — press “Explain selection” to update</span> ") if self.stale else ""
        self.identity.value = f"<div class='prsg-identity-line'>{stale}shows: {parts}</div>"

    def mark_stale(self, stale: bool = True) -> None:
        """Mark the view as showing an explanation whose inputs changed (greyed, with a badge)."""
        self.stale = bool(stale)
        if self.stale:
            self.add_class("prsg-stale")
        else:
            self.remove_class("prsg-stale")
        self._show_identity()

    # ------------------------------------------------------------------ watching
    def _unwatch(self) -> None:
        """Stop listening to the explanations shown so far (their solves keep running)."""
        for e in self._watched:
            e.remove_listener(self._listener)
        self._watched = []
        self._stop_ticker()

    def _watch(self, explanations: Iterable[Any]) -> None:
        """Listen to these explanations instead (refresh as their results land) and queue the
        solves of the unsolved ones (non-blocking) when ``solve`` is set.  Resets progress, ETA,
        error and the stale mark: the view now shows these."""
        self._unwatch()
        watched = list(explanations)

        def listener(expl, _rows, me=self):
            if any(expl is e for e in watched):
                me._last_land = (time.monotonic(), me._steps())
                me._refresher()

        self._listener, self._watched, self.futures = listener, watched, []
        self.error, self.eta = None, None
        self.stale = False
        self.remove_class("prsg-stale")
        self._t0 = time.monotonic()
        self._done0 = sum(e.progress[0] for e in watched)
        self._steps0 = self._steps()
        self._last_land = (self._t0, self._steps0)
        self._bar, self._flight_count = 0.0, 0
        self.progress.value = 0
        self.status.value = ""
        self._show_identity()
        for e in watched:
            e.on_update(listener)
            if self.solve and not e.is_complete:
                fut = e.submit()
                fut.add_done_callback(lambda _f: self._refresher())
                self.futures.append(fut)
        self._update_cancel()
        if self.futures:
            self._start_ticker()

    def _explainers(self) -> list[Any]:
        out: list[Any] = []
        for e in self._watched:
            ex = getattr(e, "explainer", None)
            if ex is not None and all(ex is not o for o in out):
                out.append(ex)
        return out

    def _steps(self) -> int:
        return sum(int(getattr(ex, "solver_steps", 0)) for ex in self._explainers())

    # ------------------------------------------------------------------ cancel / resume
    def _solving(self) -> bool:
        return any(not f.done() for f in self.futures)

    def _update_cancel(self) -> None:
        solving = self._solving()
        stopped = not solving and any(not e.is_complete for e in self._watched) and self.error is not None
        if solving:
            self.cancel_button.description, self.cancel_button.icon = "Cancel", "stop"
            self.cancel_button.layout.display = None
        elif stopped:
            self.cancel_button.description, self.cancel_button.icon = "Resume", "play"
            self.cancel_button.layout.display = None
        else:
            self.cancel_button.layout.display = "none"

    def _on_cancel_click(self) -> None:
        if self._solving():
            self.cancel()
        else:
            self.resume()

    def cancel(self) -> None:
        """Stop the background solves of this view (its explainers' queues: views sharing an
        explainer stop too); finished minimal features are kept and :meth:`resume` continues."""
        for ex in self._explainers():
            ex.cancel()

    def resume(self) -> None:
        """Queue the unsolved minimal features again after :meth:`cancel` (or a failed solve)."""
        solve, self.solve = self.solve, True
        try:
            self._watch(list(self._watched))
        finally:
            self.solve = solve
        self.refresh()

    # ------------------------------------------------------------------ progress
    def _start_ticker(self) -> None:
        """In a kernel, re-read progress once a second while solving (speed, ETA, heartbeat)."""
        loop = _kernel_loop()
        if loop is None or self._ticker is not None:
            return
        try:
            from tornado.ioloop import PeriodicCallback
        except ImportError:  # pragma: no cover - ipykernel ships tornado
            return

        def tick(me=self):
            if not me._solving():
                me._stop_ticker()
                me.refresh()
            else:
                me._tick()

        self._ticker = PeriodicCallback(tick, 1000)
        loop.add_callback(self._ticker.start)

    def _tick(self) -> None:
        """Only the status line (speed, ETA, heartbeat): nothing else changes between results."""
        done = sum(e.progress[0] for e in self._watched)
        total = sum(e.progress[1] for e in self._watched)
        failed = any(f.done() and f.exception() is not None for f in self.futures)
        if done < total and not failed:
            self.progress.max, self.progress.value = max(1, total), self._bar_value(done, total)
            self.status.value = status_html(self._progress_text(done, total))

    def _stop_ticker(self) -> None:
        ticker, self._ticker = getattr(self, "_ticker", None), None
        if ticker is not None:
            ticker.stop()

    def _bar_value(self, done: int, total: int) -> float:
        """The progress bar's value: the ``done`` minimal features plus the in-flight subsets'
        share of their iteration budget (:meth:`_in_flight`), so the bar moves during a long
        batch.  While a solve runs it never goes back and stays below ``done + in flight``
        (< ``total``); ``total`` only once everything is solved, ``done`` when nothing runs."""
        if done >= total:
            value = float(total)
        elif not self._solving():
            value = float(done)
        else:
            share, count = self._in_flight()
            value = max(done + share, min(self._bar, done + count * FLIGHT_CAP))
        self._bar = value
        return value

    def _in_flight(self) -> tuple[float, int]:
        """``(share, count)``: the subsets of a watched explanation in the solver's batch now
        (:meth:`Explainer.in_flight`) and the sum of their shares of the iteration budget, each
        capped at ``FLIGHT_CAP`` (early stopping ends most sooner, a restart later)."""
        keys = {getattr(e, "key", None) for e in self._watched} - {None}
        for ex in self._explainers():
            flight = ex.in_flight() if hasattr(ex, "in_flight") else None
            if flight is not None and flight.key in keys:
                budget = max(1, int(flight.budget))
                share = sum(min(FLIGHT_CAP, it / budget) for it in flight.steps.values())
                self._flight_count = len(flight.steps)
                return share, len(flight.steps)
        self._flight_count = 0
        return 0.0, 0

    def _progress_text(self, done: int, total: int) -> str:
        """``done/total minimal features`` with the measured speed and the ETA."""
        now = time.monotonic()
        elapsed = now - self._t0
        done_run = done - self._done0
        steps = self._steps() - self._steps0
        parts = [f"{done}/{total} minimal features"]
        if self._solving() and self._flight_count and done < total:
            parts[0] += f" ({self._flight_count} in the batch)"
        self.eta = None
        if self._solving() and elapsed > 0.5:
            if steps > 0:
                parts.append(f"{steps / elapsed:.0f} it/s")
            if done_run > 0:
                per = elapsed / done_run
                for ex in self._explainers():
                    SPEED[id(ex)] = per
                self.eta = per * (total - done)
            elif steps > 0:
                iters = max(1, int(getattr(self._explainers()[0].config, "iterations", 1))) if self._explainers() else 1
                since = self._steps() - self._last_land[1]
                left = max(0, iters - since) / (steps / elapsed)
                parts.append(f"current batch: step {since} of ≤ {iters} (≤ {_duration(left)})")
            if self.eta is not None:
                parts.append(f"≈ {_duration(self.eta)} left")
        return " · ".join(parts)

    def _show_progress(self, done: int, total: int, complete: str, error_type: bool = False) -> bool:
        """Show ``done`` of ``total`` minimal features in the progress bar and the status line,
        with speed and ETA (``complete`` once all are solved).  If a queued solve failed (e.g.
        stopped by Cancel), show that instead, keep it in ``error`` and return ``False``."""
        failed = [f.exception() for f in self.futures if f.done() and f.exception() is not None]
        self.progress.max, self.progress.value = max(1, total), (done if failed else self._bar_value(done, total))
        self._update_cancel()
        if failed:
            exc = self.error = failed[0]
            self._update_cancel()
            detail = f"{type(exc).__name__}: {exc}" if error_type else str(exc)
            kept = f" — {done}/{total} minimal features kept; press Resume to continue" if done < total else ""
            self.status.value = status_html(f"solve stopped: {html.escape(detail)}{kept}", error=True)
            return False
        self.status.value = status_html(self._progress_text(done, total) if done < total else complete)
        return True

    def refresh(self) -> None:
        """Pull what has been solved into the views (called as results land; safe to call)."""
        try:
            self._refresh()
        except Exception as exc:  # show it, and log it with its traceback
            self.error = exc
            self.status.value = status_html(f"error: {type(exc).__name__}: {html.escape(str(exc))}", error=True)
            log.exception(f"{type(self).__name__} refresh failed")

    def _refresh(self) -> None:  # pragma: no cover - every subclass implements it
        raise NotImplementedError


FLIGHT_CAP = 0.95
"""Most of its iteration budget the bar credits to a subset still in flight (so the bar never
reaches a finished subset's mark, or 100 %, before the solve says so)."""


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
