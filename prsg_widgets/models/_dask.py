"""The Dask worker plugin that carries models registered in the client's process to every worker
(imported only when a cluster is in use: it imports ``distributed``).
"""
from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

from .registry import MODELS, ModelInfo


class SharedModels(WorkerPlugin):
    """Registers ``infos`` on each worker it is set up on (``replace=True``: the client's latest
    definition wins over one an earlier sweep left there).
    """

    name = "prsg_widgets.models"

    def __init__(self, infos: list[ModelInfo]) -> None:
        self.infos = list(infos)

    def setup(self, worker) -> None:
        for info in self.infos:
            MODELS.register(info, replace=True)
