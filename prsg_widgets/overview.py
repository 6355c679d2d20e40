"""The overview picture written by ``prsg explain``: the image with the grid and the chosen
patches, then the regional patterns of the top components with their action fields outlined."""
from __future__ import annotations


import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .backend import Explanation


def to_display(image, value_range=(-1.0, 1.0)) -> np.ndarray:
    """``(C, H, W)`` tensor in ``value_range`` → ``(H, W, C)`` floats in [0, 1] for imshow."""
    lo, hi = value_range
    arr = image.detach().cpu().float().numpy() if hasattr(image, "detach") else np.asarray(image, dtype=float)
    return np.clip((arr.transpose(1, 2, 0) - lo) / (hi - lo), 0, 1)


def pattern_display(pattern) -> np.ndarray:
    """A signed difference image → [0, 1], zero at mid-grey, scaled by its own max |value|."""
    arr = pattern.detach().cpu().float().numpy().transpose(1, 2, 0)
    scale = max(float(np.abs(arr).max()), 1e-8)
    return np.clip(0.5 + 0.5 * arr / scale, 0, 1)


def outline_patches(ax, grid, patches, color="yellow", lw=1.5) -> None:
    """Draw the outline of each patch id on ``ax`` (pixel coordinates)."""
    for p in patches:
        top, bottom, left, right = grid.bounds(p)
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False,
                               edgecolor=color, linewidth=lw))


def draw_grid(ax, grid, color="white", lw=0.5) -> None:
    for y in grid.row_edges()[1:-1]:
        ax.axhline(y - 0.5, color=color, linewidth=lw, alpha=0.6)
    for x in grid.col_edges()[1:-1]:
        ax.axvline(x - 0.5, color=color, linewidth=lw, alpha=0.6)


def overview_figure(explanation: Explanation, top: int = 8) -> Figure:
    """Image + grid + selected patches, and the regional patterns ``Δx_S`` of the ``top``
    components by ‖I(S)‖₂ (Fig. 2 style)."""
    ex = explanation.require_explainer()
    comps = explanation.components(top=top)
    patterns = explanation.regional_patterns([c.subset for c in comps]) if comps else []
    cols = 1 + len(comps)
    fig = Figure(figsize=(2.0 * cols, 2.4))
    axes = fig.subplots(1, cols, squeeze=False)[0]
    axes[0].imshow(to_display(explanation.image, ex.generator.value_range))
    draw_grid(axes[0], ex.grid)
    outline_patches(axes[0], ex.grid, explanation.patches)
    for p in explanation.patches:
        t, b, l, r = ex.grid.bounds(p)
        axes[0].text((l + r) / 2 - 0.5, (t + b) / 2 - 0.5, str(p), color="yellow", ha="center", va="center", fontsize=7)
    axes[0].set_title(f"{explanation.sample.label}\nN = {explanation.patches}", fontsize=8)
    for ax, comp, pat in zip(axes[1:], comps, patterns):
        ax.imshow(pattern_display(pat))
        outline_patches(ax, ex.grid, comp.patches, color="red")
        ax.set_title(f"S={list(comp.patches)}\n‖I‖={comp.norm:.2f}", fontsize=8)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
