"""The anywidget views of :class:`~prsg_widgets.widgets.ComponentBrowser`, each in its own module
beside its ES module: :mod:`.component_gallery` and :mod:`.reconstruction` (re-exported here, their
home before).
"""
from .component_gallery import ComponentGallery
from .reconstruction import ReconstructionView

__all__ = ["ComponentGallery", "ReconstructionView"]
