"""The lazy backend: an :class:`Explainer` (model, baseline, settings) hands solves to a
:class:`Scheduler` (the one worker thread) whose results a :class:`Store` keeps in memory and on
disk; an :class:`Explanation` is the result every view reads, with or without a live model.
Every setting is a field of one :class:`Settings`, checked once.

The names are imported on first use, so :mod:`.settings` can be read without loading torch.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .explainer import Explainer
    from .explanation import Explanation, ExplanationMeta
    from .persistence.files import DamagedFile
    from .persistence.store import Store
    from .sample import Component, Sample
    from .scheduler import Scheduler
    from .settings import Settings

_LAZY = {
    "Component": ".sample", "DamagedFile": ".persistence.files", "Explainer": ".explainer",
    "Explanation": ".explanation", "ExplanationMeta": ".explanation", "Sample": ".sample", "Scheduler": ".scheduler",
    "Settings": ".settings", "Store": ".persistence.store",
}


_MODULES = ("explainer", "explanation", "persistence", "progress", "remote", "sample", "scheduler", "settings")


def __getattr__(name: str) -> Any:
    if name in _MODULES:  # ``prsg_widgets.backend.persistence`` after importing only the package
        return importlib.import_module(f".{name}", __name__)
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = ["Component", "DamagedFile", "Explainer", "Explanation", "ExplanationMeta", "Sample", "Scheduler",
           "Settings", "Store"]
