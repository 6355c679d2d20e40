"""The lazy backend: an :class:`Explainer` (model, baseline, settings) hands solves to a
:class:`Scheduler` (the one worker thread) whose results a :class:`Store` keeps in memory and on
disk; an :class:`Explanation` is the result every view reads, with or without a live model.
Every setting is a field of one :class:`Settings`, checked once.

The names are imported on first use, so :mod:`.settings` can be read without loading torch.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

# ruff: noqa: F401  (the imports below are the package's public names: __all__ is made from them)
from .. import _front_door

if TYPE_CHECKING:  # pragma: no cover - the public names, imported on first use (_front_door.attach reads them)
    from .explainer import Explainer
    from .explanation import Explanation, ExplanationMeta
    from .persistence.files import DamagedFile
    from .persistence.store import Store
    from .sample import Component, Sample
    from .scheduler import Scheduler
    from .settings import Settings

__getattr__, __dir__, __all__ = _front_door.attach(__name__, __file__)
