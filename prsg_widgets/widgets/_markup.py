"""The small HTML of the composite widgets (their ipywidgets parts): the status line, an error
shown under a button, and the plain text a saved notebook shows instead of a widget.
"""
from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any


def status_html(text: str, error: bool = False) -> str:
    """The status line of the composite widgets (``.prsg-status``; red when ``error``)."""
    return f"<span class='prsg-status{' error' if error else ''}'>{text}</span>"


def show_errors(action: Callable[[], Any], note: Any, prefix: str) -> None:
    """Run a button's ``action``; an error is shown in the ``note`` HTML widget instead of being
    raised into the kernel's log, where a user of the view never sees it.
    """
    try:
        action()
    except Exception as exc:
        note.value = f"<span class='prsg-status error'>{prefix}{html.escape(str(exc))}</span>"


def short_text(bundle: Any, text: str) -> Any:
    """A widget's display bundle with ``text`` as its plain-text form: what a saved notebook
    shows where widgets do not render (instead of the ``repr`` of every child widget).
    """
    if isinstance(bundle, dict) and "text/plain" in bundle:
        bundle["text/plain"] = text
    return bundle
