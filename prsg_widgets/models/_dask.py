"""Models registered in the client's process, carried to every Dask worker by a worker plugin
(imported only when a cluster is in use: this module imports ``distributed``).
"""
from __future__ import annotations

from collections.abc import Iterable

from distributed.diagnostics.plugin import WorkerPlugin

from .registry import MODELS, ModelInfo

__all__ = ["SharedModels", "share_models"]


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


def share_models(client, names: Iterable[str] | None = None) -> list[str]:
    """Register the models of ``names`` (default: every one :func:`register_model` added in this
    process) on every worker of the Dask ``client``, those that join later included (a Dask
    worker plugin); returns the names shared.  Built-in and entry-point models need nothing: each
    worker finds them itself.
    """
    local = MODELS.local
    infos = [local[n] for n in (local if names is None else names) if n in local]
    if infos:
        client.register_plugin(SharedModels(infos), name=SharedModels.name)
    return [info.name for info in infos]
