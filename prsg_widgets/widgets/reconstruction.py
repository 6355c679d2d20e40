"""The controllable reconstruction view of :class:`~prsg_widgets.widgets.ComponentBrowser`
(``static/reconstruction.js``); state only, drawn in JS.
"""
from __future__ import annotations

import traitlets

from ._grid_view import GridView
from ._view_modules import ViewModule


class ReconstructionView(GridView):
    """Controllable reconstruction (App. F): the image with the target patches (click patches of
    ``N`` to change ``target``), the reconstruction after ``step`` components and the RMSE curve.
    """

    _esm = ViewModule("reconstruction.js")

    image = traitlets.Bytes(b"").tag(sync=True)
    recon = traitlets.Bytes(b"").tag(sync=True)
    patches = traitlets.List(traitlets.Int()).tag(sync=True)
    target = traitlets.List(traitlets.Int()).tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    steps = traitlets.Int(0).tag(sync=True)
    rmse = traitlets.List(traitlets.Float()).tag(sync=True)
    rmse_other = traitlets.List(traitlets.Float()).tag(sync=True)
    tolerance = traitlets.Float(0.0).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
