"""The gallery view of :class:`~prsg_widgets.widgets.ComponentBrowser` (``static/component_gallery.js``):
filter, drafts, thumbnails and detail; state only, drawn in JS.
"""
from __future__ import annotations

import traitlets

from ._grid_view import GridView
from ._view_modules import ViewModule


class ComponentGallery(GridView):
    """The gallery view of :class:`ComponentBrowser`: regional-pattern thumbnails with their
    action fields outlined, a patch filter (click a patch of ``N``) and a detail panel.

    Thumbnails travel as one buffer: ``thumbs`` holds ``len(items)`` RGBA images of
    ``width × height`` back to back; ``items[i]["thumb"]`` indexes into it (``-1``: pending).
    """

    _esm = ViewModule("component_gallery.js")

    image = traitlets.Bytes(b"").tag(sync=True)
    patches = traitlets.List(traitlets.Int()).tag(sync=True)
    items = traitlets.List(traitlets.Dict()).tag(sync=True)
    thumbs = traitlets.Bytes(b"").tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)
    hidden = traitlets.Int(0).tag(sync=True)
    """Components that match the filters but are beyond ``max_thumbs``."""
    filter_patch = traitlets.Int(-1).tag(sync=True)
    filter_order = traitlets.Int(0).tag(sync=True)
    selected_subset = traitlets.Int(-1).tag(sync=True)
    detail = traitlets.Dict().tag(sync=True)
    detail_image = traitlets.Bytes(b"").tag(sync=True)
    detail_with = traitlets.Bytes(b"").tag(sync=True)
    """``g(f_N)``: the image the detail panel shows with every component."""
    detail_without = traitlets.Bytes(b"").tag(sync=True)
    """``g(f_N − I(S))``: the same image with the selected component removed (Eq. 7)."""
    drafts = traitlets.List(traitlets.Dict()).tag(sync=True)
    """Solved minimal features shown while no component is computable: ``{subset, patches}``."""
    draft_thumbs = traitlets.Bytes(b"").tag(sync=True)
    """``g(f_T)`` of each draft, RGBA, back to back."""
    drafts_state = traitlets.Dict().tag(sync=True)
    """``{solved, total, state}``: minimal features solved of the explanation (all of them, not
    only the drafts drawn) and its solve state (``LiveView._solve_state``)."""
