"""Table 2: how well the solver did on one solved explanation — mean final mse, share of
feasible subsets (every patch within ε), mean iterations and how much of the full feature change
each minimal feature keeps (its "sparsity", a choice), over the subsets ``T ≠ ∅``.
"""
from __future__ import annotations

import numpy as np

from ..backend import Explanation


def solver_summary(explanation: Explanation) -> dict[str, float]:
    """Table 2 columns for one solved explanation, over the subsets ``T ≠ ∅``: mean final
    ``mse``, share feasible (every patch of T within ε), mean iterations, and ``sparsity`` = mean
    ``‖f_T − b‖₁ / ‖f − b‖₁`` (how much of the full feature change each minimal feature keeps;
    choice, lower = more minimal).
    """
    feats = explanation.minimal_features().double()
    b = explanation.baseline.double()
    full = float((explanation.feature.double() - b).abs().sum())
    keep = ((feats[1:] - b).abs().sum(1) / full).numpy() if full > 0 else np.full(explanation.num_subsets - 1, np.nan)
    return {"mse": float(np.mean(explanation.mse[1:])), "feasible": float(np.mean(explanation.feasible[1:])),
            "iterations": float(np.mean(explanation.iterations[1:])), "sparsity": float(np.mean(keep)),
            "epsilon": float(explanation.epsilon)}
