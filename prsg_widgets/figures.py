"""Matplotlib versions of the paper's figures, one function per figure.

Every function takes explanations and the results of :mod:`prsg_widgets.metrics` (computed by
the caller) and returns a :class:`matplotlib.figure.Figure`; none of them solves or renders
anything except the images already held by those results (regional patterns are passed in).
The figures are built with :class:`matplotlib.figure.Figure` directly, so they work under any
backend and do not pile up in pyplot's global state; Jupyter shows a returned figure inline.
"""
from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from torch import Tensor

from . import palette
from .backend import Explanation
from .core.grid import PatchGrid
from .core.health import Health
from .metrics import (
    BreachResult,
    ConsistencyResult,
    MatchingResult,
    PropertyScores,
    ReconstructionResult,
    SequentialResult,
    TransferResult,
)

__all__ = [
    "image_to_rgb", "pattern_to_rgb", "outline_patches",
    "regional_patterns_figure", "regional_patterns_legend", "overview_figure",
    "sparsity_figure", "matching_error_figure", "boundary_breach_figure",
    "real_action_field_figure", "consistency_figure", "transferability_figure",
    "controllable_reconstruction_figure", "sequential_reconstruction_figure", "properties_figure",
    "convergence_figure", "markdown_table",
]


# ---------------------------------------------------------------------------------- helpers
def image_to_rgb(image: Tensor, value_range: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """``(C, H, W)`` image in ``value_range`` → ``(H, W, 3)`` floats in [0, 1] for ``imshow``."""
    lo, hi = value_range
    x = ((image.detach().cpu().double() - lo) / (hi - lo)).clamp(0, 1)
    if x.shape[0] == 1:
        x = x.repeat(3, 1, 1)
    return x[:3].permute(1, 2, 0).numpy()


def pattern_to_rgb(pattern: Tensor, scale: float | None = None) -> np.ndarray:
    """A signed difference image ``(C, H, W)`` → RGB around mid-grey (grey = no change), scaled by
    ``scale`` (default its own max ``|value|``).
    """
    p = pattern.detach().cpu().double()
    s = float(p.abs().max()) if scale is None else float(scale)
    x = 0.5 + 0.5 * p / (s if s > 0 else 1.0)
    if x.shape[0] == 1:
        x = x.repeat(3, 1, 1)
    return x[:3].clamp(0, 1).permute(1, 2, 0).numpy()


def outline_patches(ax, grid: PatchGrid, patches: Sequence[int], color: str = "yellow", lw: float = 1.5) -> None:
    """Draw the outline of each patch in ``patches`` on an ``imshow`` axis."""
    for p in patches:
        top, bottom, left, right = grid.bounds(int(p))
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False, edgecolor=color,
                               linewidth=lw))


def draw_grid(ax, grid: PatchGrid, labelled: Sequence[int] = ()) -> None:
    """Faint lines between all patches, and each id of ``labelled`` written in its patch, so a
    title such as ``S=[22]`` can be read off the picture.
    """
    for p in range(grid.size * grid.size):
        top, bottom, left, right = grid.bounds(p)
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False, edgecolor="white",
                               linewidth=0.4, alpha=0.45))
    for p in labelled:
        top, bottom, left, right = grid.bounds(int(p))
        ax.text((left + right) / 2 - 0.5, (top + bottom) / 2 - 0.5, str(int(p)), ha="center", va="center", fontsize=6,
                color="white", bbox=dict(boxstyle="round,pad=0.1", facecolor="black", alpha=0.55, linewidth=0))


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _value_range(explanation: Explanation) -> tuple[float, float]:
    # the generator's range is in the metadata, so a loaded explanation (no explainer) has it too
    return explanation.value_range


def _grid_axes(fig: Figure, count: int, ncols: int):
    nrows = max(1, -(-count // ncols))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[count:]:
        ax.axis("off")
    return flat[:count]


# ---------------------------------------------------------------------------------- Fig. 2
def _norm_text(v: float) -> str:
    """A norm as the component gallery writes it (``fmt`` of ``component_gallery.js``)."""
    if v != 0 and (abs(v) >= 1e4 or abs(v) < 1e-3):
        return f"{v:.2e}"
    return f"{v:.3f}"


def regional_patterns_figure(explanation: Explanation, subsets: Sequence[int], patterns: Tensor,
                             ncols: int = 6, shared_scale: bool = False, legend: bool = True,
                             notes: Sequence[str] = ()) -> Figure:
    """Fig. 2: the image with ``N`` outlined, then each regional pattern ``Δx_S``
    (``patterns = explanation.regional_patterns(subsets)``) with its action field outlined — in
    the colours, words and "≈ 0" rule of the component gallery (:mod:`prsg_widgets.palette`):
    a tile titled ``#rank {S}`` and ``‖I‖₂``, a numerically zero component drawn flat.
    ``legend`` explains the boxes and numbers under the tiles; each of ``notes`` (a health
    summary, the solver) is one more line there.
    """
    count = len(subsets) + 1
    ncols = min(ncols, count)
    rows = max(1, -(-count // ncols))
    lines = (5 if legend else 0) + len(notes)
    fig = Figure(figsize=(max(1.7 * ncols, 7.5 if lines else 0), 1.9 * rows + 0.17 * lines), layout="constrained")
    axes = _grid_axes(fig, count, ncols)
    grid = explanation.grid
    axes[0].imshow(image_to_rgb(explanation.image, _value_range(explanation)), interpolation="none")
    draw_grid(axes[0], grid, explanation.patches)
    outline_patches(axes[0], grid, explanation.patches, palette.SELECTED, 1.2)
    axes[0].set_title("image x, patches N", fontsize=8)
    scale = float(patterns.abs().max()) if shared_scale and len(patterns) else None
    ranked = [(int(t), float(v)) for t, v in explanation.ranking() if v is not None]
    rank = {t: i + 1 for i, (t, _) in enumerate(ranked)}
    norms = dict(ranked)
    largest = max(norms.values(), default=0.0)
    for ax, s, p in zip(axes[1:], subsets, patterns, strict=True):
        flat = palette.is_negligible(norms.get(int(s)), largest)
        # as on screen: a numerically zero component scaled to its own max would show rounding noise
        ax.imshow(pattern_to_rgb(p.new_zeros(p.shape) if flat else p, scale), interpolation="none")
        outline_patches(ax, grid, explanation.subset_patches(s), palette.ACTION_FIELD)
        field = "{" + ",".join(map(str, explanation.subset_patches(s))) + "}"
        title = f"#{rank[int(s)]} {field}" if int(s) in rank else field
        if int(s) in norms:
            title += f"\n‖I‖₂ = {_norm_text(norms[int(s)])}" + (" ≈ 0" if flat else "")
        ax.set_title(title, fontsize=7)
    for ax in axes:
        _bare(ax)
    fig.suptitle("Regional patterns Δx_S = g(f_N) − g(f_N − I(S)) (grey = no change)", fontsize=9)
    text = list(regional_patterns_legend(explanation, len(subsets)) if legend else []) + list(notes)
    if text:
        # one legend under the tiles (constrained layout makes room for it): the two kinds of box,
        # then every line of words with no marker
        boxes = [Rectangle((0, 0), 1, 1, fill=False, edgecolor=palette.SELECTED, linewidth=1.5,
                           label="patches N (ids written in them)"),
                 Rectangle((0, 0), 1, 1, fill=False, edgecolor=palette.ACTION_FIELD, linewidth=1.5,
                           label="action field A(S) of the component")] if legend else []
        wide = max(60, int(16 * fig.get_figwidth()))  # characters of 7-pt text across the figure
        words = [Line2D([], [], linestyle="none", label="\n".join(textwrap.wrap(line, wide, subsequent_indent="    ")))
                 for line in text]
        fig.legend(handles=boxes + words, loc="outside lower left", fontsize=7, frameon=False,
                   handlelength=1.4, handletextpad=0.5, labelspacing=0.25, borderaxespad=0.2)
    return fig


def regional_patterns_legend(explanation: Explanation, shown: int) -> list[str]:
    """What the tiles of :func:`regional_patterns_figure` say, in words (the legend's lines)."""
    total = explanation.num_subsets - 1
    return [f"#r {{S}}: the component I(S) of the patch set S, ranked by its L2 norm ‖I‖₂ = ‖I(S)‖₂; "
            f"shown: {shown} of the {total} components (2^{explanation.n} − 1) by norm",
            "each tile Δx_S, every colour channel scaled to the tile's own max |Δx|: grey = 0, lighter = the "
            "component adds, darker = it takes away",
            f"≈ 0: {palette.negligible_words()}"]


def overview_figure(explanation: Explanation, top: int = 8, health: Health | None = None,
                    solver: str = "", ncols: int = 9) -> Figure:
    """``prsg explain``'s overview.png: :func:`regional_patterns_figure` of the ``top`` components
    by norm, with its legend, the explanation's health (the lines of ``health.summary()``,
    computed by :meth:`Explanation.health` when not given) and ``solver`` (the preset and its
    settings) under the tiles.
    """
    subsets = [c.subset for c in explanation.components(top=top)]
    health = explanation.health() if health is None else health
    seed = getattr(explanation.sample, "seed", None)
    notes = [f"{explanation.meta.model} · {'seed ' + str(seed) if seed is not None else 'image'} · "
             f"N = {{{', '.join(map(str, explanation.patches))}}}" + (f" · solver {solver}" if solver else "")]
    notes += ["health: " + line for line in health.summary().splitlines()]
    return regional_patterns_figure(explanation, subsets, explanation.regional_patterns(subsets),
                                    ncols=min(len(subsets) + 1, ncols), notes=notes)


# ---------------------------------------------------------------------------------- Figs. 3 / 16
def sparsity_figure(curves: Mapping[str, np.ndarray], relative: bool = False, note: str = "") -> Figure:
    """Fig. 3 (and Fig. 16 with a dense control among ``curves``): ``|value|`` of every element of
    every component, sorted descending, log y-axis; x as the share of elements so curves of
    different lengths compare.  ``relative`` divides each curve by its maximum.  The colours are
    the sparsity view's (:mod:`prsg_widgets.palette`: the curve labelled ``"dense control"`` grey
    and dashed); ``note`` is written under the plot (the view's caption).
    """
    fig = Figure(figsize=(5, 3.2 + 0.14 * len(textwrap.wrap(note, 90))), layout="constrained")
    ax = fig.subplots()
    i = 0
    for label, c in curves.items():
        c = np.asarray(c, dtype=np.float64)
        if relative and c.size and c[0] > 0:
            c = c / c[0]
        x = (np.arange(c.size) + 1) / max(1, c.size)
        pos = c > 0  # exact zeros (elements no component touches) cannot sit on a log axis
        zeros = 1 - pos.mean() if c.size else 0.0
        # millions of elements at n = 9: plot the head densely and the rest on a 4000-point grid
        idx = np.unique(np.concatenate([np.arange(min(1000, c.size)),
                                        np.linspace(0, max(0, c.size - 1), 4000).astype(int)]))
        idx = idx[pos[idx]] if c.size else idx
        control = label == palette.CONTROL_LABEL
        color = palette.CONTROL if control else palette.SERIES[i % len(palette.SERIES)]
        i += 0 if control else 1
        ax.plot(x[idx], c[idx], label=f"{label} ({zeros:.0%} exact zeros)" if zeros else label, lw=1.4,
                color=color, ls="--" if control else "-")
    ax.set_yscale("log")
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of all elements of all components (sorted)")
    ax.set_ylabel("|I(S)_j|" + (" / max" if relative else ""))
    ax.set_title("Sparsity of feature components", fontsize=10)
    ax.legend(fontsize=8)
    if note:
        fig.supxlabel("\n".join(textwrap.wrap(note, 90)), fontsize=7, ha="left", x=0.01, multialignment="left")
    return fig


# ---------------------------------------------------------------------------------- Fig. 4
def matching_error_figure(result: MatchingResult) -> Figure:
    """Fig. 4: subsets ``T`` sorted by ``‖u(T)‖₂`` (curve) with the matching error
    ``‖u(T) − û(T)‖²/d`` of the top-k components as dots (and ``‖u(T)‖²/d`` for scale).
    """
    fig = Figure(figsize=(5.5, 3.2), layout="constrained")
    ax = fig.subplots()
    o = np.array([t for t in result.order if t != 0])  # u(∅) = 0 has no place on a log axis
    x = np.arange(len(o))
    ax.plot(x, result.u_norm[o], color="C0", lw=1.6, label="‖u(T)‖₂")
    ax.plot(x, result.u_sq[o], color="C0", lw=1, ls="--", label="‖u(T)‖₂² / d")
    ax.scatter(x, np.maximum(result.error[o], 1e-12), s=8, color="C3", label=f"error, top-{result.k}", zorder=3)
    ax.set_yscale("log")
    ax.set_xlabel("subsets T, sorted by ‖u(T)‖₂")
    ax.set_title("Linear additivity with the top-k components (Eq. 7)", fontsize=10)
    ax.legend(fontsize=8)
    return fig


# ---------------------------------------------------------------------------------- Figs. 5, 14, 15
def boundary_breach_figure(results: Sequence[BreachResult], explanation: Explanation | None = None,
                           labels: Sequence[str] | None = None, show_images: int = 0) -> Figure:
    """Figs. 5, 14, 15: per result, RMSE against ``g(b)`` of patch ``i`` (must stay near 0) and of
    the other selected patches while components avoiding ``i`` are added.  With
    ``explanation`` and ``show_images > 0`` each panel row also shows that many renderings.
    """
    k = len(results)
    rows = 2 if (explanation is not None and show_images > 0) else 1
    cols = max(k, 1)
    fig = Figure(figsize=(3.2 * cols, 2.6 * rows + (0.4 if rows == 2 else 0)), layout="constrained")
    if rows == 2:
        sub, img_fig = fig.subfigures(2, 1, squeeze=False, height_ratios=[1.4, 1])[:, 0]
        axes = sub.subplots(1, cols, squeeze=False)[0]
    else:
        axes = fig.subplots(1, cols, squeeze=False)[0]
    for j, (ax, r) in enumerate(zip(axes, results, strict=False)):  # no result: one empty axis
        x = np.arange(len(r.rmse_patch))
        ax.plot(x, r.rmse_patch, "o-", ms=3, color="C3", label=f"patch {r.patch}")
        ax.plot(x, r.rmse_others, "s-", ms=3, color="C0", label="other patches of N")
        if np.isfinite(r.rmse_outside).any():
            ax.plot(x, r.rmse_outside, lw=1, ls=":", color="grey", label="outside N")
        ax.set_xlabel("components added (patch ∉ S)")
        ax.set_ylabel("RMSE vs g(b)")
        ax.set_title(labels[j] if labels else f"i = {r.patch}, ratio {r.breach_ratio:.2f}", fontsize=9)
        ax.legend(fontsize=7)
    if rows == 2:
        assert explanation is not None  # rows == 2 only with an explanation
        grid = explanation.grid
        vr = _value_range(explanation)
        iaxes = img_fig.subplots(k, show_images, squeeze=False)
        for j, r in enumerate(results):
            steps = np.linspace(0, len(r.rmse_patch) - 1, show_images).round().astype(int)
            for ax, s in zip(iaxes[j], steps, strict=True):
                ax.imshow(image_to_rgb(r.images[s], vr))
                outline_patches(ax, grid, [r.patch], "red")
                ax.set_title(f"step {s}", fontsize=7)
                _bare(ax)
    fig.suptitle("Spatial boundedness: components not covering patch i leave it untouched", fontsize=10)
    return fig


# ---------------------------------------------------------------------------------- Fig. 6
def real_action_field_figure(rho: np.ndarray, orders: Sequence[int], chance: np.ndarray | None = None,
                             title: str = "") -> Figure:
    """Fig. 6: ``ρ(S)`` of components by norm rank (bars coloured by ``|S|``), with the area share
    of ``A(S)`` (``metrics.action_field_area``: the ρ of an evenly spread pattern) as ticks.
    """
    rho = np.asarray(rho, dtype=float)
    fig = Figure(figsize=(max(4.0, 0.28 * len(rho) + 1.5), 3.0), layout="constrained")
    ax = fig.subplots()
    colours = [f"C{int(o) % 10}" for o in orders]
    x = np.arange(len(rho))
    ax.bar(x, rho, color=colours)
    handles: list[Artist] = [Patch(color=f"C{int(o) % 10}", label=f"|S| = {int(o)}")
                             for o in sorted({int(o) for o in orders})]
    if chance is not None:
        handles.append(ax.scatter(x, chance, marker="_", s=120, color="k", label="area of A(S) (chance)", zorder=3))
    ax.legend(handles=handles, fontsize=7, loc="upper right", ncol=2)
    ax.set_ylim(0, 1.25)
    ax.set_xlabel("components by ‖I(S)‖₂")
    ax.set_ylabel("ρ(S)")
    ax.set_title(title or f"Real action field: mean ρ = {np.nanmean(rho):.3f}", fontsize=10)
    return fig


# ---------------------------------------------------------------------------------- Fig. 7
def consistency_figure(explanation: Explanation, results: Sequence[ConsistencyResult], max_contexts: int = 5) -> Figure:
    """Fig. 7: for each component, its pattern on ``b`` (``p^∅``) and on a few contexts ``T``
    (``p^T``), action field outlined in yellow and ``T`` in cyan, inconsistency in the titles.
    """
    cols = 1 + min(max_contexts, max((len(r.contexts) for r in results), default=0))
    rows = max(1, len(results))
    fig = Figure(figsize=(1.6 * cols, 1.8 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    grid = explanation.grid
    for i, r in enumerate(results):
        scale = float(r.patterns.abs().max())
        shown = min(cols - 1, len(r.contexts))
        for j in range(cols):
            ax = axes[i, j]
            _bare(ax)
            if j > shown:
                ax.axis("off")
                continue
            ax.imshow(pattern_to_rgb(r.patterns[j], scale))
            outline_patches(ax, grid, r.field)
            if j == 0:
                ax.set_title(f"S={r.field}: p^∅\nmean {r.mean:.2f}", fontsize=7)
            else:
                t = r.contexts[j - 1]
                outline_patches(ax, grid, explanation.subset_patches(t), "cyan", 1.0)
                ax.set_title(f"T={explanation.subset_patches(t)}\n{r.values[j - 1]:.2f}", fontsize=7)
    fig.suptitle("Consistency: the pattern of S on top of different contexts T", fontsize=9)
    return fig


# ---------------------------------------------------------------------------------- Fig. 8
def transferability_figure(results: Sequence[TransferResult], labels: Sequence[str]) -> Figure:
    """Fig. 8: transferability ratio per image pair, with the chance level of random fields."""
    fig = Figure(figsize=(max(3.5, 0.7 * len(results) + 1.5), 3.0), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(results))
    ax.bar(x, [r.ratio for r in results], color="C2", label="ratio |A_a ∩ A_b| / k_a")
    ax.scatter(x, [r.chance for r in results], marker="_", s=200, color="k", label="chance", zorder=3)
    ax.set_xticks(x, labels, rotation=30, fontsize=8)
    ax.set_ylim(0, 1.05)
    if results:
        ax.set_title(f"Transferability (k_a={results[0].k_a}, k_b={results[0].k_b}): "
                     f"mean {np.mean([r.ratio for r in results]):.3f}", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return fig


# ---------------------------------------------------------------------------------- Figs. 9, 10
def controllable_reconstruction_figure(explanation: Explanation, result: ReconstructionResult,
                                       show: int = 6) -> Figure:
    """Figs. 9–10: renderings as components covering the target are added (target outlined),
    the real image, and the RMSE on the target (and elsewhere) per step with ``sqrt(ε)``.
    """
    steps = np.unique(np.linspace(0, len(result.rmse) - 1, min(show, len(result.rmse))).round().astype(int))
    fig = Figure(figsize=(1.6 * (len(steps) + 1), 4.2), layout="constrained")
    top, bottom = fig.subfigures(2, 1, squeeze=False, height_ratios=[1, 1.2])[:, 0]
    axes = top.subplots(1, len(steps) + 1, squeeze=False)[0]
    vr = _value_range(explanation)
    grid = explanation.grid
    for ax, s in zip(axes, steps, strict=False):  # the last axis shows the real image
        ax.imshow(image_to_rgb(result.images[s], vr))
        outline_patches(ax, grid, result.target)
        ax.set_title(f"{s} added\nRMSE {result.rmse[s]:.3f}", fontsize=7)
        _bare(ax)
    axes[-1].imshow(image_to_rgb(explanation.image, vr))
    outline_patches(axes[-1], grid, result.target)
    axes[-1].set_title("image x", fontsize=7)
    _bare(axes[-1])
    ax = bottom.subplots()
    x = np.arange(len(result.rmse))
    ax.plot(x, result.rmse, "o-", ms=3, label="target T")
    ax.plot(x, result.rmse_other, "s-", ms=3, color="grey", label="rest of the image")
    ax.axhline(result.tolerance, color="k", ls=":", lw=1, label="√ε")
    ax.set_xlabel("components covering T added (by norm)")
    ax.set_ylabel("RMSE vs x")
    ax.legend(fontsize=7)
    fig.suptitle(f"Controllable reconstruction of T = {result.target}", fontsize=9)
    return fig


# ---------------------------------------------------------------------------------- Figs. 11, 12
def sequential_reconstruction_figure(explanation: Explanation, result: SequentialResult) -> Figure:
    """Figs. 11–12: renderings as the patches are reconstructed one by one (reconstructed patches
    outlined) and the per-patch RMSE matrix (steps × patches).
    """
    count = len(result.order) + 1
    fig = Figure(figsize=(max(6.0, 1.5 * (count + 1)), 4.4), layout="constrained")
    top, bottom = fig.subfigures(2, 1, squeeze=False, height_ratios=[1, 1.2])[:, 0]
    axes = top.subplots(1, count + 1, squeeze=False)[0]
    vr = _value_range(explanation)
    grid = explanation.grid
    for j in range(count):
        ax = axes[j]
        ax.imshow(image_to_rgb(result.images[j], vr))
        outline_patches(ax, grid, result.order[:j])
        if j:
            outline_patches(ax, grid, [result.order[j - 1]], "red")
        ax.set_title("b" if j == 0 else f"+ patch {result.order[j - 1]}", fontsize=7)
        _bare(ax)
    axes[-1].imshow(image_to_rgb(explanation.image, vr))
    axes[-1].set_title("image x", fontsize=7)
    _bare(axes[-1])
    ax = bottom.subplots()
    im = ax.imshow(result.rmse_patch.T, aspect="auto", cmap="viridis")
    ax.set_yticks(range(len(result.patches)), [str(p) for p in result.patches], fontsize=7)
    ax.set_xticks(range(count), ["b"] + [f"+{p}" for p in result.order], fontsize=7)
    ax.set_ylabel("patch")
    ax.set_xlabel("step")
    bottom.colorbar(im, ax=ax, label="RMSE vs x")
    fig.suptitle("Sequential reconstruction, one patch at a time", fontsize=9)
    return fig


# ---------------------------------------------------------------------------------- Table 1
def properties_figure(scores: Sequence[PropertyScores]) -> Figure:
    """Table 1 measured, as grouped bars: completeness residual, 1 − mean ρ, inconsistency,
    breach ratio (all lower = better) and 1 − transferability.
    """
    keys = [("completeness_residual", "completeness\nresidual"), ("rho_mean", "1 − ρ"),
            ("inconsistency_mean", "inconsistency"), ("breach_ratio_mean", "breach ratio"),
            ("transfer", "1 − transfer")]
    fig = Figure(figsize=(6.5, 3.0), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(1, len(scores))
    x = np.arange(len(keys))
    for i, s in enumerate(scores):
        vals = []
        for k, _ in keys:
            v = getattr(s, k)
            vals.append(1 - v if k in ("rho_mean", "transfer") else v)
        ax.bar(x + i * width, vals, width, label=s.name)
    ax.set_xticks(x + width * (len(scores) - 1) / 2, [lbl for _, lbl in keys], fontsize=8)
    ax.set_ylabel("lower = better")
    ax.legend(fontsize=8)
    ax.set_title("The three properties, measured", fontsize=10)
    return fig


# ---------------------------------------------------------------------------------- Table 2
def convergence_figure(summaries: Mapping[str, Mapping[str, float]]) -> Figure:
    """Table 2: per solver preset, mean mse (with ε), share feasible, mean iterations, sparsity
    (``metrics.solver_summary``), and seconds when a ``"seconds"`` entry is present.
    """
    names = list(summaries)
    timed = all("seconds" in summaries[n] for n in names)
    keys = ["mse", "feasible", "iterations", "sparsity"] + (["seconds"] if timed else [])
    fig = Figure(figsize=(2.3 * len(keys), 2.6), layout="constrained")
    axes = fig.subplots(1, len(keys), squeeze=False)[0]
    for ax, k in zip(axes, keys, strict=True):
        ax.bar(range(len(names)), [summaries[n][k] for n in names], color="C1")
        ax.set_xticks(range(len(names)), names, rotation=30, fontsize=8)
        ax.set_title(k, fontsize=9)
        if k == "mse":
            eps = [summaries[n].get("epsilon") for n in names]
            if eps[0] is not None:
                ax.axhline(eps[0], color="k", ls=":", lw=1)
    fig.suptitle("Minimal-feature solver per preset", fontsize=10)
    return fig


# ---------------------------------------------------------------------------------- tables
def markdown_table(rows: Mapping[str, Mapping[str, object]], columns: Sequence[str] | None = None,
                   digits: int = 3) -> str:
    """A Markdown table (``{row name: {column: value}}``) for the measured Tables 1 and 2 —
    show it with ``IPython.display.Markdown``; floats get ``digits`` significant digits.
    """
    names = list(rows)
    if columns is None:
        columns = [c for c in (rows[names[0]] if names else {})]

    def fmt(v: object) -> str:
        if isinstance(v, (float, np.floating)):
            return f"{float(v):.{digits}g}"
        return str(v)

    lines = ["| | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    lines += ["| " + str(n) + " | " + " | ".join(fmt(rows[n].get(c, "")) for c in columns) + " |" for n in names]
    return "\n".join(lines)
