"""Jupyter widgets over the backend (anywidget views, ipywidgets controls and layout).

* :class:`PatchGridSelector` — choose the patches ``N`` on a generated image.
* :class:`ComponentBrowser` — the feature components of an explanation, filters, details and
  controllable reconstruction.
* :class:`SparsityCurve` — Fig. 3 with the dense control of App. I.
* :class:`TransferabilityPairer` — Sec. 3.4 on two samples.
* :func:`explore` — all four as a dashboard on a built-in model.

Every view of explanations takes them through one method, ``show(explanations)``
(:mod:`._protocol`: :class:`ExplanationView`, and :class:`ExplanationLike`, what a view reads of an
explanation).  Each anywidget view is one Python file beside one ES module in ``static/``.

Widgets hold no math: they render what :class:`~prsg_widgets.Explanation` and
:mod:`prsg_widgets.metrics` return, and images travel as raw RGBA bytes (lossless).
"""
from ._protocol import ExplanationLike, ExplanationView
from .component_browser import ComponentBrowser
from .dashboard import Dashboard, explore
from .gallery_views import ComponentGallery, ReconstructionView
from .patch_grid import PatchGridSelector
from .picture_row import PictureRow
from .sparsity_curve import SparsityCurve, SparsityPlot
from .transferability import PairView, TransferabilityPairer

__all__ = [
    "ComponentBrowser", "ComponentGallery", "Dashboard", "ExplanationLike", "ExplanationView", "PairView",
    "PatchGridSelector", "PictureRow", "ReconstructionView", "SparsityCurve", "SparsityPlot", "TransferabilityPairer",
    "explore",
]
