"""Plumbing shared by the widgets: lossless image buffers, main-thread scheduling, readiness,
the views' ES modules and base classes.

Nothing here computes a paper quantity: images are only converted to bytes for display, and
results come from :class:`~prsg_widgets.Explanation` and :mod:`prsg_widgets.metrics`.
"""
from __future__ import annotations

import functools
import logging
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
@functools.lru_cache(maxsize=None)
def esm(name: str) -> str:
    """The ES module of the view ``static/<name>``: ``static/common.js`` (the helpers every view
    uses) followed by the view's own file.  anywidget loads a view from one string, so the files
    cannot import each other without a build step; concatenating keeps each helper in one place."""
    common = (STATIC / "common.js").read_text(encoding="utf-8")
    return common + "\n" + (STATIC / name).read_text(encoding="utf-8")


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
    bar and status line, a listener that refreshes (on the main thread) as results land, the
    background solves queued when ``solve`` is set, and errors shown rather than raised.

    Subclasses call :meth:`_init_live` before building their layout, :meth:`_watch` whenever
    they show other explanations, and implement ``_refresh()``."""

    solve: bool

    def _init_live(self, title: str, progress_width: str) -> widgets.HBox:
        """Set up the live state and return the header: ``title``, progress bar, status line."""
        self.error: Optional[BaseException] = None
        self.futures: list[Any] = []
        self._listener: Optional[Callable[[Any, list[int]], None]] = None
        self._watched: list[Any] = []
        self._refresher = MainThreadCaller(self.refresh)
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="solve",
                                            layout=widgets.Layout(width=progress_width))
        self.progress.add_class("prsg-progress")
        self.status = widgets.HTML("")
        return widgets.HBox([widgets.HTML(f"<b>{title}</b>", layout=widgets.Layout(flex="none")),
                             self.progress, self.status], layout=widgets.Layout(align_items="center"))

    def _unwatch(self) -> None:
        """Stop listening to the explanations shown so far (their solves keep running)."""
        for e in self._watched:
            e.remove_listener(self._listener)
        self._watched = []

    def _watch(self, explanations: Iterable[Any]) -> None:
        """Listen to these explanations instead (refresh as their results land) and queue the
        solves of the unsolved ones (non-blocking) when ``solve`` is set."""
        self._unwatch()
        watched = list(explanations)

        def listener(expl, _rows, me=self):
            if any(expl is e for e in watched):
                me._refresher()

        self._listener, self._watched, self.futures = listener, watched, []
        for e in watched:
            e.on_update(listener)
            if self.solve and not e.is_complete:
                fut = e.submit()
                fut.add_done_callback(lambda _f: self._refresher())
                self.futures.append(fut)

    def _show_progress(self, done: int, total: int, complete: str, error_type: bool = False) -> bool:
        """Show ``done`` of ``total`` minimal features in the progress bar and the status line
        (``complete`` once all are solved).  If a queued solve failed (e.g. stopped by
        ``cancel()``), show that instead, keep it in ``error`` and return ``False``."""
        self.progress.max, self.progress.value = max(1, total), done
        failed = [f.exception() for f in self.futures if f.done() and f.exception() is not None]
        if failed:
            exc = self.error = failed[0]
            detail = f"{type(exc).__name__}: {exc}" if error_type else str(exc)
            self.status.value = status_html(f"solve stopped: {detail}", error=True)
            return False
        self.status.value = status_html(f"{done}/{total} minimal features" if done < total else complete)
        return True

    def refresh(self) -> None:
        """Pull what has been solved into the views (called as results land; safe to call)."""
        try:
            self._refresh()
        except Exception as exc:  # show it, and log it with its traceback
            self.error = exc
            self.status.value = status_html(f"error: {type(exc).__name__}: {exc}", error=True)
            log.exception(f"{type(self).__name__} refresh failed")

    def _refresh(self) -> None:  # pragma: no cover - every subclass implements it
        raise NotImplementedError
