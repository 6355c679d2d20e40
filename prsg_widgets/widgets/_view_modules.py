"""The views' ES modules: ``static/<view>.js`` beside each view's Python file, loaded as files.

Each view's JavaScript is an ES module that imports its helpers (``import { dom } from
"./common.js"``).  anywidget hands the browser one string per view and imports it from a
``blob:`` URL, where a relative specifier cannot resolve; :class:`ViewModule` therefore replaces
each ``"./x.js"`` specifier by a ``data:`` URL of that file (its own imports resolved the same
way).  One file is one URL, so every view on a page shares one instance of ``common.js``.
``./constants.js`` is not a file: it is made here from Python (:data:`GLOSSARY`, the palette),
the one source of those words and colours.

During development (``ANYWIDGET_HMR=1`` and ``watchfiles`` installed, the package not in
``site-packages``), an edit of any file in ``static/`` re-sends the module and anywidget reloads
the views on the page: anywidget's own file watching, over the module's whole import graph.
"""
from __future__ import annotations

import base64
import importlib
import importlib.util
import json
import os
import pathlib
import re
from collections.abc import Iterator

from anywidget._file_contents import FileContents

from ..palette import js_constants
from ._glossary import GLOSSARY

STATIC = pathlib.Path(__file__).parent / "static"
"""The views' JavaScript and the stylesheet."""
CSS = STATIC / "prsg.css"
"""The one stylesheet of every view."""
CONSTANTS = "constants.js"
"""The module made from Python: ``GLOSSARY`` and ``PALETTE``."""

_IMPORT = re.compile(r"""(\bfrom\s*|^import\s*)(["'])\./([\w.-]+\.js)\2""", re.M)
"""A static import of a sibling file (``from "./x.js"``, ``import "./x.js"``); the JSDoc types'
``import("./common.js")`` stay as written (comments: the browser never loads them)."""


def module_text(name: str) -> str:
    """The source of the module ``./<name>``, as written (``constants.js``: made from Python)."""
    if name == CONSTANTS:
        return ("// made by prsg_widgets.widgets._view_modules from Python (the glossary, palette.py)\n"
                "export const GLOSSARY = " + json.dumps(GLOSSARY, ensure_ascii=False) + ";\n"
                + "export " + js_constants())
    path = STATIC / name
    if not path.is_file():
        raise FileNotFoundError(f"a view imports ./{name}, which is not a file of {STATIC}")
    return path.read_text(encoding="utf-8")


def imports_of(text: str) -> list[str]:
    """The sibling modules ``text`` imports (``"./x.js"`` specifiers), in order."""
    return list(dict.fromkeys(m.group(3) for m in _IMPORT.finditer(text)))


def module_graph(name: str) -> dict[str, str]:
    """Every module ``./<name>`` loads, itself first, by file name → source as written."""
    graph: dict[str, str] = {}
    todo = [name]
    while todo:
        current = todo.pop(0)
        if current not in graph:
            graph[current] = module_text(current)
            todo += imports_of(graph[current])
    return graph


def resolved(name: str, _seen: tuple[str, ...] = ()) -> str:
    """The module ``./<name>`` with each ``"./x.js"`` specifier replaced by a ``data:`` URL of
    ``x.js`` (resolved the same way), so that it loads from a string.
    """
    if name in _seen:
        raise ValueError(f"the views' modules import each other in a circle: {' → '.join(_seen + (name,))}")

    def url(match: re.Match[str]) -> str:
        data = base64.b64encode(resolved(match.group(3), _seen + (name,)).encode("utf-8")).decode("ascii")
        return f'{match.group(1)}"data:text/javascript;base64,{data}"'

    return _IMPORT.sub(url, module_text(name))


def _watching(path: pathlib.Path) -> bool:
    """Whether to watch ``path`` (anywidget's rule): asked for (``ANYWIDGET_HMR=1``), outside an
    installed package, and ``watchfiles`` at hand.
    """
    if os.getenv("ANYWIDGET_HMR") != "1" or {"site-packages", "dist-packages"} & set(path.parts):
        return False
    return importlib.util.find_spec("watchfiles") is not None


class ViewModule(FileContents):
    """The ES module of one view for anywidget's ``_esm``: ``str()`` is ``static/<name>`` with
    its imports resolved (:func:`resolved`); watched, when developing, with all of ``static/``.
    """

    def __init__(self, name: str) -> None:
        path = STATIC / name
        super().__init__(path, start_thread=_watching(path))

    @property
    def name(self) -> str:
        """The view's file in ``static/``."""
        return self._path.name

    def watch(self) -> Iterator[tuple[int, str]]:
        """Re-send the module whenever a file it may import changes (blocks; anywidget runs it
        in a thread).
        """
        watch = importlib.import_module("watchfiles").watch  # a development tool, not a dependency

        for changes in watch(STATIC, stop_event=self._stop_event):
            for change, path in changes:
                if path.endswith(".js"):
                    self._contents = None
                    self.changed.emit(str(self))
                    yield (int(change), path)
                    break

    def __str__(self) -> str:
        if self._contents is None:
            self._contents = resolved(self.name)
        return self._contents
