"""Minimal-feature solver (Eq. 5, 9, 10; ``docs/theory.md`` §2, ``docs/solver.md``).

For every subset ``T ⊆ N`` find the least change from the baseline that still regenerates every
patch in ``T``::

    f_T = b + m_T ⊙ (f − b),        m_T ∈ [0, 1]^d
    minimise  ‖m_T ⊙ (f − b)‖₁ / d + λ · Σ_{i ∈ T} max(0, mse_i − ε)

by projected Adam steps from ``m = 0`` (``f_T = b``, the paper's Eq. 10).  Subsets are independent
problems solved as one batch; ``nested=True`` solves them by increasing size, each bounded below
by the union of its maximal proper subsets (the OR structure built in; fast on a CPU, but it also
makes a random feature look sparse, so sparsity comparisons use the independent solve).

Modules: :mod:`.config` (settings and presets; the iteration budget ``max_steps``), :mod:`.schedule`
(which subset next, nested readiness and bounds, block width, and :func:`simulate`, the schedule
without a model), :mod:`.pool` (the per-slot state), :mod:`.objective` (Eq. 10 and its gradient, per
block), :mod:`.steps` (best iterate, stopping rules, the Adam step), :mod:`.precision` (``auto``
and the ``mixed`` mode's rules), :mod:`.solve` (the loop).
"""
from ..validate import PRECISIONS
from .config import (
                      CONSTRAINTS,
                      PRESETS,
                      RELEASE_0_2,
                      SOLVER_VERSION,
                      SolverConfig,
                      get_solver_config,
                      max_steps_of,
                      recorded_max_steps,
                      settle_iterations,
)
from .objective import subset_membership, worst_patch_mse
from .precision import bf16_matrix_engine, resolve_precision
from .schedule import (
                        Segment,
                        block_width,
                        children,
                        default_unit,
                        is_ready,
                        mask_of,
                        parents,
                        simulate,
                        slot_count,
                        solve_order,
                        subset_size,
                        widest_level,
)
from .solve import (
                     ResultCallback,
                     SolveHooks,
                     SolveInterrupted,
                     SolveOptions,
                     SolveResult,
                     estimate_batch_size,
                     solve_minimal_features,
)

__all__ = [
    "CONSTRAINTS", "PRECISIONS", "PRESETS", "RELEASE_0_2", "SOLVER_VERSION", "ResultCallback", "Segment",
    "SolveHooks", "SolveInterrupted", "SolveOptions", "SolveResult", "SolverConfig", "bf16_matrix_engine",
    "block_width", "children", "default_unit", "estimate_batch_size", "get_solver_config", "is_ready", "mask_of",
    "max_steps_of", "parents", "recorded_max_steps", "resolve_precision", "settle_iterations", "simulate",
    "slot_count", "solve_minimal_features", "solve_order", "subset_membership", "subset_size", "widest_level",
    "worst_patch_mse",
]
