"""Widget state changes on the kernel's main thread: solver results arrive on the worker thread,
and :class:`MainThreadCaller` brings each refresh back to the kernel's IO loop.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def kernel_loop() -> Any:
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
        loop = kernel_loop()
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
