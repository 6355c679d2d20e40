"""Progress of a sweep: a tqdm bar in a terminal, an ipywidgets bar (with the Dask dashboard
link) in a notebook, or nothing.  Counted in minimal features (the non-empty subsets still to
solve, as the sweep's summary counts them); measured images show as a note.
"""
from __future__ import annotations

import sys
from typing import Any


def in_notebook() -> bool:
    """Whether we run inside a Jupyter kernel (where a widget can show)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython() if hasattr(ipython, "get_ipython") else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class Progress:
    """``kind``: ``"tqdm"``, ``"widget"``, ``"none"`` or ``"auto"`` (widget in a notebook, tqdm
    elsewhere).  ``update(k)`` adds ``k`` finished units; ``note(text)`` shows a status line.
    """

    def __init__(self, total: int, kind: bool | str = "auto", desc: str = "sweep",
                 dashboard: str | None = None) -> None:
        if kind is True or kind == "auto":
            kind = "widget" if in_notebook() else "tqdm"
        elif kind is False or kind is None:
            kind = "none"
        if kind not in ("tqdm", "widget", "none"):
            raise ValueError(f"progress must be 'auto', 'tqdm', 'widget', 'none' or a bool, got {kind!r}")
        self.kind, self.total, self.done = kind, int(total), 0
        # a tqdm bar or an ipywidgets progress bar and label, both untyped libraries
        self._bar: Any = None
        self._label: Any = None
        self._desc = desc
        if kind == "tqdm":
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=desc, unit="subset", dynamic_ncols=True, file=sys.stderr)
        elif kind == "widget":
            import ipywidgets as w
            from IPython.display import display

            self._bar = w.IntProgress(value=0, min=0, max=max(1, self.total), description=desc,
                                      bar_style="info", layout=w.Layout(width="60%"))
            link = (f' — <a href="{dashboard}" target="_blank">Dask dashboard</a>' if dashboard else "")
            self._label = w.HTML(value=f"0 / {self.total}{link}")
            self._link = link
            display(w.VBox([self._bar, self._label]))

    def update(self, k: int = 1) -> None:
        """Count ``k`` more finished units."""
        self.done += int(k)
        if self.kind == "tqdm":
            self._bar.update(int(k))
        elif self.kind == "widget":
            self._bar.value = min(self.done, self._bar.max)
            self._label.value = f"{self.done} / {self.total}{self._link}"

    def note(self, text: str) -> None:
        """Show ``text`` beside the count."""
        if self.kind == "tqdm":
            self._bar.set_postfix_str(text, refresh=True)
        elif self.kind == "widget":
            self._label.value = f"{self.done} / {self.total} — {text}{self._link}"

    def close(self, ok: bool = True) -> None:
        """Finish the bar (a widget turns green, or red when not ``ok``)."""
        if self.kind == "tqdm":
            self._bar.close()
        elif self.kind == "widget":
            self._bar.bar_style = "success" if ok else "danger"
