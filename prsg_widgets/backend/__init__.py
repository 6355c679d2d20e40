"""The lazy backend: an :class:`Explainer` (model, baseline, settings) hands solves to a
:class:`Scheduler` (the one worker thread) whose results a :class:`Store` keeps in memory and on
disk; an :class:`Explanation` is the result every view reads, with or without a live model."""
from .explainer import Explainer
from .explanation import Explanation, ExplanationMeta
from .sample import Component, Sample
from .scheduler import Scheduler
from .store import DamagedFile, Store

__all__ = ["Component", "DamagedFile", "Explainer", "Explanation", "ExplanationMeta", "Sample", "Scheduler", "Store"]
