"""Exports that reach the user's browser as downloads: the paper figure of a view as an SVG.

The PNG of a view is drawn in the browser from what is on screen (``common.js``
``exportButton``); the SVG is the paper-style matplotlib figure of the same results
(:mod:`prsg_widgets.figures`), made in the kernel and handed to the browser as a download — never
written next to the notebook — under a short name (``components_dcgan-faces_seed0_N8-13.svg``).
"""
from __future__ import annotations

import base64
import io
import re
from typing import Any

import anywidget
import traitlets

from ._common import CSS

_DOWNLOAD_JS = """
function render({ model, el }) {
  el.style.display = "none";
  const go = () => {
    const p = model.get("payload");
    if (!p || !p.data) return;
    const a = document.createElement("a");
    a.download = p.name;
    a.href = "data:" + p.mime + ";base64," + p.data;
    document.body.appendChild(a);
    a.click();
    a.remove();
    el.dataset.downloaded = p.name;
  };
  model.on("change:payload", go);
}
export default { render };
"""


class Downloader(anywidget.AnyWidget):
    """An invisible view that downloads ``payload`` (``{name, mime, data}``, base64) each time it
    is set (a counter in ``payload`` makes repeated downloads of one file distinct).
    """

    _esm = _DOWNLOAD_JS
    _css = CSS
    payload = traitlets.Dict().tag(sync=True)
    count = 0

    def send_file(self, name: str, data: bytes, mime: str) -> None:
        self.count += 1
        self.payload = {"name": name, "mime": mime, "data": base64.b64encode(data).decode("ascii"),
                        "n": self.count}


def file_stem(view: str, explanation: Any) -> str:
    """``view_model_seedS_N1-2-3``: what a file shows, short and safe on every file system."""
    ex = getattr(explanation, "explainer", None)
    model = getattr(getattr(ex, "generator", None), "name", None) or getattr(explanation.meta, "model", "loaded")
    seed = getattr(explanation.sample, "seed", None)
    stem = f"{view}_{model}_seed{seed if seed is not None else 'x'}_N{'-'.join(map(str, explanation.patches))}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem)[:120]


def svg_bytes(figure: Any) -> bytes:
    """A matplotlib figure as SVG bytes (closed afterwards)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    figure.savefig(buf, format="svg")
    plt.close(figure)
    return buf.getvalue()
