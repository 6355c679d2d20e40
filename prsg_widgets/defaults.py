"""Defaults and small values that several layers share, in a module that imports nothing heavy
(``prsg --help`` and :class:`~prsg_widgets.backend.settings.Settings` read them without loading
torch; :mod:`prsg_widgets.core` reads them without importing the backend).
"""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PRESET = "interactive"
"""The solver preset used when none is given (API, CLI, sweeps, ``explore()``): the nested solve,
whose components do not cancel (cancellation ≈ 1.2–1.6 at n = 4–9 on faces, where the independent
``fast`` gives 2.2–2.7 and a health warning).  ``fast`` (independent subsets) stays the paper's
baseline for sparsity claims: nested solving bounds every subset by its parts, which makes any
feature, the dense control included, look sparse (docs/solver.md)."""

DEFAULT_MAX_PATCHES = 12
"""The most patches an explanation may have unless ``max_patches`` says otherwise: 2^12 = 4,096
minimal features, minutes on a CPU (nested)."""

PRECISIONS = ("fp32", "bf16")
"""Execution precisions of the generator tail (:attr:`Execution.precision`)."""


@dataclass(frozen=True)
class Execution:
    """How the solver runs the generator tail — not what it computes: one value, handed as a whole
    from the :class:`~prsg_widgets.backend.settings.Settings` (its fields of the same names, where
    they are declared and checked) through the explainer to
    :func:`~prsg_widgets.core.solver.solve_minimal_features`.

    ``precision="bf16"`` runs only the tail under ``torch.autocast`` (bfloat16) and casts its image
    back to float32 (it changes the results beyond float rounding, so it is part of the cache key);
    ``compile=True`` runs the tail through ``torch.compile`` (one static block shape);
    ``channels_last=True`` hands the tail its 4-D feature in channels-last memory format.

    The device is not here: it is where the feature, the baseline and the model already are.  Nor is
    the batch size: it plans the solve (blocks, chunks, memory), it does not run the tail.
    """

    precision: str = "fp32"
    compile: bool = False
    channels_last: bool = False


DEFAULT_EXECUTION = Execution()
"""The execution options when none are given: fp32, no ``torch.compile``, the default memory format."""
