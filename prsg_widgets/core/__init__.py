"""Pure functions over tensors: patch grid, minimal-feature solver, Harsanyi transforms."""
from __future__ import annotations

# ruff: noqa: F401  (the imports below are the package's public names: __all__ is made from them)
from .. import _front_door
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

__getattr__, __dir__, __all__ = _front_door.attach(__name__, __file__)
