"""Exports that reach the user's browser as downloads: the paper figure of a view as an SVG.

The PNG of a view is drawn in the browser from what is on screen (``common.js``
``exportButton``); the SVG is the paper-style matplotlib figure of the same results
(:mod:`prsg_widgets.figures`), made in the kernel and handed to the browser as a download — never
written next to the notebook — under the name :func:`export_stem` gives every export, PNG or SVG
(``components_dcgan-faces_seed0_N8-13.svg``).
"""
from __future__ import annotations

import base64
import io
import re
from collections.abc import Sequence
from typing import Any

import anywidget
import traitlets

from ._captions import model_name
from ._protocol import Shown, as_list
from ._view_modules import CSS, ViewModule


class Downloader(anywidget.AnyWidget):
    """An invisible view that downloads ``payload`` (``{name, mime, data}``, base64) each time it
    is set (a counter in ``payload`` makes repeated downloads of one file distinct).
    """

    _esm = ViewModule("downloader.js")
    _css = CSS
    payload = traitlets.Dict().tag(sync=True)
    count = 0

    def send_file(self, name: str, data: bytes, mime: str) -> None:
        self.count += 1
        self.payload = {"name": name, "mime": mime, "data": base64.b64encode(data).decode("ascii"),
                        "n": self.count}


def export_stem(view: str, model: str | None, parts: Sequence[tuple[int | None, Sequence[int]]]) -> str:
    """The one name of every export (PNG and SVG) but its extension:
    ``<view>_<model>_seed<seed>_N<p1>-<p2>-…``, one ``seed…_N…`` part per image shown, joined by
    ``_vs_`` (``transferability_dcgan-faces_seed0_N8-13_vs_seed3_N8-13``); ``seedx`` when the
    image has no seed.  Only ``A-Z a-z 0-9 _ . -`` (safe on every file system), at most 120 characters.
    """
    if not parts:
        parts = [(None, ())]
    shown = "_vs_".join(f"seed{'x' if seed is None else int(seed)}_N{'-'.join(str(int(p)) for p in patches)}"
                        for seed, patches in parts)
    stem = f"{view}_{model or 'image'}_{shown}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem)[:120]


def file_stem(view: str, explanations: Shown) -> str:
    """:func:`export_stem` of the explanation(s) a view shows."""
    many = as_list(explanations, view)
    models = list(dict.fromkeys(model_name(e) for e in many))
    return export_stem(view, "-".join(models), [(e.sample.seed, e.patches) for e in many])


def svg_bytes(figure: Any) -> bytes:
    """A matplotlib figure as SVG bytes (closed afterwards)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    figure.savefig(buf, format="svg")
    plt.close(figure)
    return buf.getvalue()
