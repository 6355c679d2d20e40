"""How a view names what it shows: the caption ``model · seed · N`` of an explanation, the
model's name, and the value range its images are drawn in.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ._protocol import ExplanationLike


def model_name(explanation: ExplanationLike) -> str:
    """The model an explanation comes from, as its metadata names it (a loaded explanation
    without an explainer too).
    """
    return str(explanation.meta.model or "loaded")


def caption(explanation: ExplanationLike) -> str:
    """Which explanation a view shows: ``model · seed · N`` (plain text; a loaded explanation
    without an explainer names the model of its metadata).
    """
    seed, label = explanation.sample.seed, explanation.sample.label
    label = label or ("seed " + str(seed) if seed is not None else "")
    if seed is not None and label != f"seed {seed}":
        label = f"{label} (seed {seed})" if label else f"seed {seed}"
    model = explanation.meta.model or "loaded from file"
    return f"{model} · {label or 'sample'} · N = {{{', '.join(map(str, explanation.patches))}}}"
