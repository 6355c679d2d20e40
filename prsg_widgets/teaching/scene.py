"""Toy-scenes ground truth for the teaching notebook: choosing the patches ``N`` on a scene's true
objects (:func:`patches_on_objects`), measuring which objects the top components' action fields
touch and where their regional patterns put their energy (:func:`object_overlaps`), and drawing
the scene and the components with the object outlines (matplotlib, imported on use).

The figures suit either JupyterLab theme: a transparent background (no white box in the dark
theme) and mid-grey text, readable on white and on near-black (:func:`theme_neutral`).  Show them
at 2× (``set_matplotlib_formats("retina")``, as the notebook does) to keep them sharp on HiDPI.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor


def patches_on_objects(grid, object_masks: Tensor, n: int = 4, background: int = 1) -> list[int]:
    """Patch ids ``N`` for a toy scene: for each object (in order), the not-yet-chosen patch its
    visible mask covers most, then ``background`` patches that touch no object (a control whose
    components should be weak), then more object patches if ``n`` is still not reached.

    ``object_masks`` is ``(K, H, W)`` or ``(1, K, H, W)`` bool, as ``Sample.object_masks``.
    """
    masks = object_masks.reshape(-1, *object_masks.shape[-2:]).bool().cpu()
    cover = torch.stack([grid.patch_scores(m.float()) for m in masks])  # (K, P*P) coverage fractions
    chosen: list[int] = []
    n_obj = max(0, n - background)
    for k in range(masks.shape[0]):
        if len(chosen) >= n_obj:
            break
        for p in torch.argsort(-cover[k], stable=True).tolist():
            if p not in chosen and cover[k, p] > 0:
                chosen.append(p)
                break
    empty = [p for p in range(grid.num_patches) if float(cover[:, p].sum()) == 0 and p not in chosen]
    chosen += empty[: max(0, n - len(chosen))][:background]
    for p in torch.argsort(-cover.sum(0), stable=True).tolist():  # top up with the most covered
        if len(chosen) >= n:
            break
        if p not in chosen:
            chosen.append(p)
    return sorted(chosen[:n])


@dataclass(frozen=True)
class ObjectOverlap:
    """A top component against the true objects: which objects its action field ``A(S)`` touches,
    and where its regional pattern ``Δx_S`` (Fig. 2) puts its energy.
    """

    subset: int
    patches: tuple[int, ...]
    norm: float
    objects_in_field: tuple[int, ...]
    rho: float
    pattern_on_objects: float

    @property
    def overlaps_object(self) -> bool:
        """True when the action field touches at least one object."""
        return len(self.objects_in_field) > 0


def object_overlaps(explanation, object_masks: Tensor, top: int = 5, min_pixels: int = 1) -> list[ObjectOverlap]:
    """For the ``top`` components of ``explanation`` (by ‖I(S)‖₂): the objects whose visible mask
    shares at least ``min_pixels`` pixels with ``A(S)``; ``ρ(S)`` — the share of ``|Δx_S|`` inside
    ``A(S)`` (Sec. 3.2.1, ``docs/theory.md`` §7); and the share of ``|Δx_S|`` on object pixels.
    """
    from ..metrics import real_action_field_ratios  # ρ has one definition, in metrics

    masks = object_masks.reshape(-1, *object_masks.shape[-2:]).bool().cpu()
    union = masks.any(0)
    comps = explanation.components(top=top)
    subsets = [c.subset for c in comps]
    rhos = real_action_field_ratios(explanation, subsets)
    deltas = explanation.regional_patterns(subsets).abs().sum(1)  # (k, H, W)
    grid = explanation.grid
    out = []
    for c, d, rho in zip(comps, deltas, rhos, strict=True):
        field = grid.mask(c.patches)
        hit = tuple(k for k in range(masks.shape[0]) if int((masks[k] & field).sum()) >= min_pixels)
        total = float(d.sum())
        on_obj = float(d[union].sum()) / total if total > 0 else float("nan")
        out.append(ObjectOverlap(c.subset, c.patches, c.norm, hit, float(rho), on_obj))
    return out


def overlap_share(overlaps: Sequence[ObjectOverlap]) -> float:
    """Share of components whose action field overlaps a true object."""
    return sum(o.overlaps_object for o in overlaps) / len(overlaps) if overlaps else float("nan")


FIGURE_TEXT = "#8a8a8a"
"""Text and frame colour of the teaching figures: contrast ≥ 3:1 on white and on JupyterLab's dark
background alike."""


def theme_neutral(fig):
    """Make ``fig`` theme-neutral in place: transparent figure and axes backgrounds (the notebook's
    background shows through) and :data:`FIGURE_TEXT` for titles, labels and frames.  Returns it.
    """
    fig.patch.set_alpha(0.0)
    for ax in fig.axes:
        ax.patch.set_alpha(0.0)
        ax.title.set_color(FIGURE_TEXT)
        ax.xaxis.label.set_color(FIGURE_TEXT)
        ax.yaxis.label.set_color(FIGURE_TEXT)
        ax.tick_params(colors=FIGURE_TEXT)
        for spine in ax.spines.values():
            spine.set_edgecolor(FIGURE_TEXT)
    return fig


def _to_rgb(image: Tensor):
    """``(C, H, W)`` in [-1, 1] → ``(H, W, 3)`` numpy in [0, 1] for ``imshow``."""
    img = ((image.detach().cpu().float() + 1) / 2).clamp(0, 1)
    if img.shape[0] == 1:
        img = img.expand(3, -1, -1)
    return img.permute(1, 2, 0).numpy()


def _outline(ax, grid, patches: Iterable[int], color: str, lw: float = 2.0) -> None:
    from matplotlib.patches import Rectangle

    for p in patches:
        top, bottom, left, right = grid.bounds(p)
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False, ec=color, lw=lw))


def show_scene(explanation, object_masks: Tensor, ax=None):
    """The scene with the true objects' outlines (white) and the selected patches ``N`` (yellow,
    numbered as players 1..n).  Returns the axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.2))
    masks = object_masks.reshape(-1, *object_masks.shape[-2:]).cpu().float()
    ax.imshow(_to_rgb(explanation.image), interpolation="nearest")
    for m in masks:
        ax.contour(m.numpy(), levels=[0.5], colors="white", linewidths=1.0)
    _outline(ax, explanation.grid, explanation.patches, "yellow")
    for i, p in enumerate(explanation.patches):
        top, _, left, _ = explanation.grid.bounds(p)
        ax.text(left + 1, top + 3, str(i + 1), color="yellow", fontsize=9, weight="bold")
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title("scene, objects (white), patches N (yellow)", fontsize=8)
    theme_neutral(ax.figure)
    return ax


def show_components(explanation, overlaps: Sequence[ObjectOverlap], object_masks: Tensor,
                    names: Sequence[str] | None = None):
    """One panel per component: ``|Δx_S|`` (Fig. 2) with its action field (cyan) and the true
    objects (white), titled with the players in ``S``, ``ρ(S)`` and the objects ``A(S)`` touches
    (``names[k]`` or the object index).  Returns the matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    k = len(overlaps)
    fig, axes = plt.subplots(1, max(k, 1), figsize=(2.1 * max(k, 1), 2.5), squeeze=False)
    masks = object_masks.reshape(-1, *object_masks.shape[-2:]).cpu().float()
    deltas = explanation.regional_patterns([o.subset for o in overlaps]).abs().sum(1) if k else []
    for ax, o, d in zip(axes[0], overlaps, deltas, strict=False):  # one empty axis when none
        ax.imshow(d.numpy(), cmap="magma", interpolation="nearest")
        for m in masks:
            ax.contour(m.numpy(), levels=[0.5], colors="white", linewidths=0.8)
        _outline(ax, explanation.grid, o.patches, "cyan")
        players = [explanation.patches.index(p) + 1 for p in o.patches]
        hit = ", ".join(names[i] if names else f"object {i}" for i in o.objects_in_field) or "no object"
        ax.set_title(f"S={{{','.join(map(str, players))}}}  ρ={o.rho:.2f}\n{hit}", fontsize=8)
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return theme_neutral(fig)
