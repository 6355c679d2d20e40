"""Pure functions over tensors: patch grid, minimal-feature solver, Harsanyi transforms."""
from .grid import PatchGrid, TooManyPatchesError, patches_to_subset, select_patches, subset_to_patches
from .harsanyi import (
                       and_interactions,
                       and_inverse,
                       mobius_transform,
                       or_interactions,
                       or_inverse,
                       reconstruct,
                       zeta_transform,
)
from .solver import PRESETS, SolveInterrupted, SolverConfig, SolveResult, get_solver_config, solve_minimal_features

__all__ = [
    "PRESETS", "PatchGrid", "SolveInterrupted", "SolveResult", "SolverConfig", "TooManyPatchesError",
    "and_interactions", "and_inverse", "get_solver_config", "mobius_transform", "or_interactions",
    "or_inverse", "patches_to_subset", "reconstruct", "select_patches", "solve_minimal_features",
    "subset_to_patches", "zeta_transform",
]
