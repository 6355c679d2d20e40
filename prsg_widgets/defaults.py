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

PRECISIONS = ("fp32", "bf16", "mixed")
"""Execution precisions of the generator tail (:attr:`Execution.precision`): ``fp32``; ``bf16``
(every evaluation under bfloat16 autocast); ``mixed`` (bfloat16 steps, every answer decided in
fp32: see :mod:`prsg_widgets.core.solver.precision`)."""

PRECISION_NOTES = {"fp32": "", "bf16": "tail in bfloat16", "mixed": "bf16 steps, every answer checked in fp32"}
"""What each precision means, in the words the views put after its name."""

DEFAULT_PRECISION = "fp32"
"""The precision an explainer runs in unless told.  Not ``auto``: at n = 9 (``interactive``) the
``mixed`` mode's fp32 rows (floor checks, polish) are half the tail's rows, so a bf16 engine saves
little there, and its cancellation left fp32's own spread on one face of five (docs/solver.md,
"Precision modes")."""

PRECISION_CHOICES = ("auto",) + PRECISIONS
"""What a user may ask for: a precision, or ``auto`` — ``mixed`` where the device has a bfloat16
matrix engine (AMX or AVX-512-BF16 on a CPU, bf16 tensor cores on a GPU), else ``fp32``."""


@dataclass(frozen=True)
class Execution:
    """How the solver runs the generator tail — not what it computes: one value, handed as a whole
    from the :class:`~prsg_widgets.backend.settings.Settings` (its fields of the same names, where
    they are declared and checked) through the explainer to
    :func:`~prsg_widgets.core.solver.solve_minimal_features`.

    ``precision="bf16"`` runs only the tail under ``torch.autocast`` (bfloat16) and casts its image
    back to float32 (it changes the results beyond float rounding, so it is part of the cache key);
    ``"mixed"`` takes the optimiser's steps so but decides every answer in fp32 (the floor check,
    the polish, the final check); ``"auto"`` is resolved for the device before a solve;
    ``compile=True`` runs the tail through ``torch.compile`` (one static block shape);
    ``channels_last=True`` hands the tail its 4-D feature in channels-last memory format.

    The device is not here: it is where the feature, the baseline and the model already are.  Nor is
    the batch size: it plans the solve (blocks, chunks, memory), it does not run the tail.
    """

    precision: str = DEFAULT_PRECISION
    compile: bool = False
    channels_last: bool = False


DEFAULT_EXECUTION = Execution()
"""The execution options when none are given: fp32, no ``torch.compile``, the default memory format."""
