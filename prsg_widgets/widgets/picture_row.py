"""PictureRow: a few images side by side with captions and outlined patches — sharp on HiDPI
screens, on the theme's background, exportable as a PNG (the teaching notebook's pictures).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import traitlets

from ._grid_view import GridView
from ._images import rgba_bytes, signed_rgba_bytes
from ._markup import short_text
from ._view_modules import ViewModule


class PictureRow(GridView):
    """Images ``(C, H, W)`` of one size in a row; ``items[i]`` = ``{caption, outline (patch ids),
    color, alt}``.  Set them with :meth:`show`.
    """

    _esm = ViewModule("picture_row.js")

    images = traitlets.Bytes(b"").tag(sync=True)
    items = traitlets.List(traitlets.Dict()).tag(sync=True)
    size = traitlets.Int(144).tag(sync=True)
    """CSS pixels per image."""
    note = traitlets.Unicode("").tag(sync=True)

    def __init__(self, grid: Any = None, size: int = 144, **kwargs) -> None:
        super().__init__(size=int(size), **kwargs)
        self._grid = grid

    def _repr_mimebundle_(self, **kwargs):
        return short_text(super()._repr_mimebundle_(**kwargs),
                          "pictures: " + " | ".join(it["caption"] for it in self.items))

    def show(self, images: Sequence[Any], captions: Sequence[str], outlines: Sequence[Sequence[int]] | None = None,
             colors: Sequence[str] | None = None, value_range=(-1.0, 1.0), note: str | None = None,
             signed: Sequence[bool] = ()) -> None:
        """Show ``images`` (same size) with their ``captions``, ``outlines`` (patch ids) and colours;
        an image whose ``signed`` entry is true is a difference, drawn grey at 0.
        """
        chunks, w, h = [], 0, 0
        for i, img in enumerate(images):
            data, w, h = signed_rgba_bytes(img) if i < len(signed) and signed[i] else rgba_bytes(img, value_range)
            chunks.append(data)
        outlines = outlines or [[] for _ in images]
        colors = colors or ["#d6336c"] * len(images)
        with self.hold_sync():
            if self._grid is not None:
                self.set_grid(self._grid, w, h)
            else:
                self.width, self.height = w, h
            self.images = b"".join(chunks)
            self.items = [{"caption": c, "outline": [int(p) for p in o], "color": col}
                          for c, o, col in zip(captions, outlines, colors, strict=True)]
            if note is not None:
                self.note = note
