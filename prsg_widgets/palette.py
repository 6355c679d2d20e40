"""The display rules the screen and the exports share: colours, and when a component is "≈ 0".

One source for both sides: the widgets' JavaScript receives these values (``js_constants``, in
the ``constants.js`` module the views import, made by ``widgets._view_modules``) and the matplotlib
figures (:mod:`prsg_widgets.figures`, the SVG exports and ``prsg explain``'s overview.png) import them,
so a picture in a file never uses other colours or another "≈ 0" rule than the view it came from.
A display choice only: no paper quantity depends on it.
"""
from __future__ import annotations

import json

ACTION_FIELD = "#d6336c"
"""Magenta: the action field ``A(S)`` of a component, everywhere."""
SELECTED = "#1c7ed6"
"""Blue: the selected patches ``N``."""
TARGET = "#e8590c"
"""Orange: the target patches ``T`` of a reconstruction."""
MATCHED = "#2f9e44"
"""Green: an action field found in both images (transferability)."""
SERIES = ("#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599")
"""The colours of the curves of a plot, in order (the sparsity curves)."""
CONTROL = "#868e96"
"""Grey, dashed: the dense control's curve."""
CONTROL_LABEL = "dense control"
"""The label that marks a curve as the dense control."""

NEGLIGIBLE = 1e-4
"""A component whose ``‖I(S)‖₂`` is at most this share of the largest norm is numerically zero:
shown as "≈ 0" and drawn flat (scaled to its own max, rounding noise would look like a pattern).
"""


def is_negligible(norm: float | None, largest: float) -> bool:
    """``norm ≤ NEGLIGIBLE · largest``: the "≈ 0" rule of the gallery and of the exported figures."""
    return norm is not None and float(norm) <= NEGLIGIBLE * float(largest)


def negligible_words() -> str:
    """The rule in words, as the tooltip and the figures' legend say it."""
    return f"‖I(S)‖₂ below 1/{round(1 / NEGLIGIBLE):,} of the largest norm: numerically zero, drawn flat"


def js_constants() -> str:
    """``const PALETTE = {...};``: the values above for the views' JavaScript."""
    values = {"actionField": ACTION_FIELD, "selected": SELECTED, "target": TARGET, "matched": MATCHED,
              "negligible": NEGLIGIBLE, "negligibleWords": negligible_words()}
    return "const PALETTE = " + json.dumps(values, ensure_ascii=False) + ";\n"
