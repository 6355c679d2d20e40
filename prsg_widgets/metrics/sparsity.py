"""Sparsity of the feature components (Sec. 3.1, Fig. 3): every element of every non-empty
component ``I(S)`` as ``|value|`` sorted descending, and scalar summaries of that curve.  The
dense control that the curve is compared with (App. I) is :mod:`.dense_control`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from torch import Tensor

from ..backend import Explanation
from ..core.health import mass_share_sorted


def sorted_magnitudes(vectors: Tensor | np.ndarray | Sequence[Tensor | np.ndarray]) -> np.ndarray:
    """``|value|`` of every element of ``vectors`` (one tensor, or several concatenated), sorted
    descending, as ``float64``: the Fig. 3 curve of one component, or of the components solved
    so far (:func:`sparsity_curve` is this over all non-empty components).  Empty: length 0.
    """
    parts = [vectors] if isinstance(vectors, (Tensor, np.ndarray)) else list(vectors)
    flat = [v.detach().abs().flatten().cpu().numpy().astype(np.float64) if isinstance(v, Tensor)
            else np.abs(np.asarray(v, dtype=np.float64)).ravel() for v in parts]
    if not flat:
        return np.zeros(0)
    values = flat[0] if len(flat) == 1 else np.concatenate(flat)
    return -np.sort(-values)


def sparsity_curve(explanation: Explanation) -> np.ndarray:
    """Fig. 3: every element of every non-empty component ``I(S)``, ``S ≠ ∅``, as ``|value|``
    sorted descending (length ``(2^n − 1) · d``).  Solves what is missing.
    """
    return sorted_magnitudes(explanation.component_array()[1:])


def sparsity_stats(curve: np.ndarray, rel: float = 0.01, mass: float = 0.9) -> dict[str, float]:
    """Scalar summaries of a sparsity curve (choice: the paper gives only the curve).

    ``salient_fraction``: share of elements with ``|v| > rel · max|v|``; ``mass_fraction``: the
    smallest share of elements holding ``mass`` of the total L1 mass; ``max``: the largest value.
    Lower fractions = sparser.
    """
    curve = np.asarray(curve, dtype=np.float64)
    if curve.size == 0 or curve[0] == 0:
        return {"salient_fraction": 0.0, "mass_fraction": 0.0, "max": 0.0, "elements": float(curve.size)}
    salient = float((curve > rel * curve[0]).mean())
    return {"salient_fraction": salient, "mass_fraction": mass_share_sorted(curve, mass),
            "max": float(curve[0]), "elements": float(curve.size)}
