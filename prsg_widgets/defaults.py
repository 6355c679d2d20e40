"""Defaults that several layers share, in a module that imports nothing (``prsg --help`` and
:class:`~prsg_widgets.backend.settings.Settings` read them without loading torch).
"""
from __future__ import annotations

DEFAULT_PRESET = "interactive"
"""The solver preset used when none is given (API, CLI, sweeps, ``explore()``): the nested solve,
whose components do not cancel (cancellation ≈ 1.2–1.6 at n = 4–9 on faces, where the independent
``fast`` gives 2.2–2.7 and a health warning).  ``fast`` (independent subsets) stays the paper's
baseline for sparsity claims: nested solving bounds every subset by its parts, which makes any
feature, the dense control included, look sparse (docs/solver.md)."""

DEFAULT_MAX_PATCHES = 12
"""The most patches an explanation may have unless ``max_patches`` says otherwise: 2^12 = 4,096
minimal features, minutes on a CPU (nested)."""
