"""``GridView``: the base of the anywidget views drawn over an image cut by its patch grid."""
from __future__ import annotations

import anywidget
import traitlets

from ..core.grid import PatchGrid
from ._view_modules import CSS


def grid_edges(grid: PatchGrid) -> dict[str, list[int]]:
    """Pixel edges of the patch grid (uneven when P does not divide the image size)."""
    return {"row_edges": [int(v) for v in grid.row_edges()], "col_edges": [int(v) for v in grid.col_edges()]}


class GridView(anywidget.AnyWidget):
    """Base of the views drawn over an image with its patch grid: the image size and the grid's
    pixel edges, which ``common.js``'s ``gridOf`` reads to place cells and outlines (its
    ``GridModel``), and the PNG export's name (``ExportModel``).
    """

    _css = CSS

    width = traitlets.Int(0).tag(sync=True)
    height = traitlets.Int(0).tag(sync=True)
    grid_size = traitlets.Int(6).tag(sync=True)
    row_edges = traitlets.List(traitlets.Int()).tag(sync=True)
    col_edges = traitlets.List(traitlets.Int()).tag(sync=True)
    export_stem = traitlets.Unicode("").tag(sync=True)
    """The name of the view's PNG export, without ``.png`` (``_export.export_stem``)."""
    caption = traitlets.Unicode("").tag(sync=True)
    """Which explanation is shown (``model · seed · N``), written under the PNG export."""

    def set_grid(self, grid: PatchGrid, width: int, height: int) -> None:
        """Show images of ``width × height`` pixels cut by ``grid``; call under ``hold_sync``
        together with the image so the view redraws once.
        """
        self.width, self.height = int(width), int(height)
        self.grid_size = grid.size
        edges = grid_edges(grid)
        self.row_edges, self.col_edges = edges["row_edges"], edges["col_edges"]
