"""Everything that reaches the disk: the solve cache, saved explanations, and the checks of both.

* :mod:`.files` — checksummed ``.npz`` files written atomically, safe on shared folders;
* :mod:`.filecheck` — what a loaded file may hold, every field checked;
* :mod:`.store` — the solve record of each explanation key, in memory and as cache parts;
* :mod:`.saved` — an explanation's ``.npz`` file (``Explanation.save`` / ``Explanation.load``).

The per-subset fields these files hold are declared once, in :mod:`prsg_widgets.core.solver.rows`.
Nothing here imports the explanation or the explainer: they call in.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

# ruff: noqa: F401  (the imports below are the package's public names: __all__ is made from them)
from ... import _front_door

if TYPE_CHECKING:  # pragma: no cover - imported on first use (_front_door.attach reads them)
    from .files import DamagedFile
    from .store import SolveRecord, Store

__getattr__, __dir__, __all__ = _front_door.attach(__name__, __file__)
