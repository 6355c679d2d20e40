"""SparsityCurve: Fig. 3 (every component element, ``|value|`` sorted descending, log axis) with the
dense control of App. I / Fig. 16 as an overlay.
"""
from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import anywidget
import ipywidgets as widgets
import numpy as np
import traitlets

from .. import metrics, palette
from ..core.health import mass_rank_sorted
from ._glossary import info_html
from ._images import float32_bytes
from ._live import LiveView
from ._protocol import ExplanationLike, Shown, as_explanation, as_list, explainer_of
from ._view_modules import CSS, ViewModule

COLORS = list(palette.SERIES)  # one palette with the exported figure (palette.py)
CONTROL_COLOR = palette.CONTROL


class SparsityPlot(anywidget.AnyWidget):
    """The plot view of :class:`SparsityCurve`.

    ``data`` holds, per series, ``count`` ranks then ``count`` values as ``float32`` back to back;
    ``series[i]`` gives ``offset`` (in floats), ``count``, ``label``, ``color``, ``status``.
    ``hover`` is set by the view: ``{"label", "rank", "value"}`` of the point under the pointer.
    """

    _esm = ViewModule("sparsity_curve.js")
    _css = CSS

    series = traitlets.List(traitlets.Dict()).tag(sync=True)
    data = traitlets.Bytes(b"").tag(sync=True)
    log_x = traitlets.Bool(True).tag(sync=True)
    hover = traitlets.Dict().tag(sync=True)
    plot_width = traitlets.Int(520).tag(sync=True)
    plot_height = traitlets.Int(300).tag(sync=True)
    caption = traitlets.Unicode("").tag(sync=True)
    """Which explanations are plotted (``model · seed · N``), written under the PNG export."""
    export_stem = traitlets.Unicode("").tag(sync=True)
    """The PNG export's file name without ``.png`` (``_export.export_stem``)."""
    message = traitlets.Unicode("").tag(sync=True)
    """What the plot says while it has no curve to draw (the solve's state, in words)."""


def display_points(curve: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """``(ranks, values)`` of at most ``max_points`` points of a sorted curve for drawing: evenly
    spaced ranks plus log-spaced ones, so both the head and the long tail keep their shape.
    Ranks are 1-based.  (A display reduction only; the full curve stays on the Python side.)
    """
    size = int(curve.size)
    if size == 0:
        return np.zeros(0), np.zeros(0)
    if size <= max_points:
        idx = np.arange(size)
    else:
        half = max(2, max_points // 2)
        lin = np.linspace(0, size - 1, half)
        geo = np.geomspace(1, size, half) - 1
        idx = np.unique(np.concatenate([lin, geo]).round().astype(np.int64))
    return idx + 1.0, curve[idx]


class SparsityCurve(LiveView, widgets.VBox):
    """Sparsity of the feature components (Fig. 3) of one or more explanations.

    Each curve is :func:`prsg_widgets.metrics.sparsity_curve` (all elements of all components,
    ``|value|`` sorted descending) on a log value axis; ``dense_control=True`` adds the curve of
    :func:`prsg_widgets.metrics.dense_control` (a random feature of the same shape and statistics
    through the same pipeline, App. I) for the first explanation.  While an explanation is being
    solved its curve is drawn from the components already available (marked "partial") and
    updates as results land.  Hovering reads the rank and value under the pointer (``hover``).
    Once every curve is complete, a dot marks on each the rank holding 90% of its L1 mass and the
    note under the plot says what the curves show for these explanations (:func:`reading`).

    ``curves`` maps each label to its full curve once complete; ``caveat`` is the caption under
    the curve in plain words (the exported figure writes it too).
    """

    export_name = "sparsity"
    export_views = {"plot": "sparsity"}

    def _complete_text(self) -> str:
        return "every curve complete"

    def __init__(self, explanations: Shown | None = None, *,
                 labels: Sequence[str] | None = None, dense_control: bool = True,
                 control_seed: int = 0, solve: bool = True, max_points: int = 1500,
                 log_x: bool = True, width: int = 520, height: int = 300, line: Any = None) -> None:
        self.plot = SparsityPlot(log_x=log_x, plot_width=int(width), plot_height=int(height))
        header = self._init_live("Sparsity of the components", "240px", term="sparsity")
        self.log_x_box = widgets.Checkbox(value=log_x, description="log rank axis", indent=False,
                                          layout=widgets.Layout(width="130px"))
        traitlets.link((self.log_x_box, "value"), (self.plot, "log_x"))
        self.note = widgets.HTML("", layout=widgets.Layout(flex="1 1 300px"))
        self.note.add_class("prsg-sparsity-note")
        self.note.add_class("prsg-export-with")  # the caveat belongs to the curve: in its PNG too
        note = self.note
        super().__init__([header, self.plot, widgets.HBox([self.log_x_box, note],
                                                          layout=widgets.Layout(align_items="center"))])
        self.add_class("prsg-sparsity-curve")
        self.dense_control = bool(dense_control)
        self.control_seed = int(control_seed)
        self.solve = bool(solve)
        self.max_points = int(max_points)
        self.explanations: list[ExplanationLike] = []
        self.labels: list[str] = []
        self.control: ExplanationLike | None = None  # the dense control, when there is one
        self.curves: dict[str, np.ndarray] = {}
        self.caveat = ""  # the caption under the curve in plain words (also under the exported figure)
        if line is not None:
            self.use_line(line)
        if explanations is not None:
            self.show(explanations, labels=labels)

    @property
    def hover(self) -> dict:
        """``{"label", "rank", "value"}`` of the point last under the pointer (``{}`` if none)."""
        return dict(self.plot.hover)

    def show(self, explanations: Shown, *, labels: Sequence[str] | None = None) -> None:
        """Plot one or more explanations (the view protocol, :mod:`~prsg_widgets.widgets._protocol`)
        instead of the current ones, and the dense control of the first; ``labels`` names the
        curves (default: the samples' labels).
        """
        explanations = as_list(explanations, "SparsityCurve")
        if labels is not None and len(labels) != len(explanations):
            raise ValueError(f"{len(labels)} labels for {len(explanations)} explanations")
        self._unwatch()
        self.explanations = list(explanations)
        self.labels = list(labels) if labels is not None else _default_labels(self.explanations)
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels must be distinct, got {self.labels}")
        self.curves = {}
        self.error = None
        self.control = None
        first = self.explanations[0]
        ex = explainer_of(first)
        self.control_void = bool(self.dense_control and ex.config.nested)
        if self.dense_control and not self.control_void:
            self.control = metrics.dense_control(ex, as_explanation(first), seed=self.control_seed)
        self._reading = ""
        self._show_note()
        self._watch(self._all())
        self.plot.caption = " | ".join(self.shows)
        self.refresh()

    def _show_note(self, state: str = "") -> None:
        """The note under the plot: what the dashed curve is (or why there is none), then the
        reading of the complete curves (or when it comes), then the solve's state when stopped.
        """
        if self.control_void:
            head, body = ("No dense control with the nested solve", ": nested solving bounds each subset by its "
                          "smaller ones, which makes even a random feature look sparse, so a comparison would say "
                          "nothing. Re-solve independently to compare with the dense control.")
        elif self.control is not None:
            head, body = "dashed grey: the dense control", " — a random feature through the same (independent) solve."
        else:
            head, body = "", ""
        after = self._reading or ("What the curves show (where each holds 90% of its mass) is read here once every "
                                  "curve is complete.")
        tail = " Exact zeros cannot be drawn on a log axis: they are counted in the legend."
        # the same words in plain text under the exported figure (the PNG carries the note itself)
        self.caveat = (head + body + " " + after + (" " + state if state else "") + tail).strip()
        shown = (f"<b>{head}</b>" if self.control_void else head) + (" " + info_html("dense control") if head else "")
        def esc(text: str) -> str:  # quotes stay quotes: the note is element text, and the caveat its plain copy
            return html.escape(text, quote=False)

        self.note.value = (f"<span class='prsg-muted' style='font-size:12px'>{shown}{esc(body)} {esc(after)}"
                           + (f" <b>{esc(state)}</b>" if state else "") + tail + "</span>")

    def _all(self) -> list[ExplanationLike]:
        return self.explanations + ([self.control] if self.control is not None else [])

    def _all_labels(self) -> list[str]:
        return self.labels + ([palette.CONTROL_LABEL] if self.control is not None else [])

    def _refresh(self) -> None:
        series, chunks, offset = [], [], 0
        done_all = total_all = 0
        state = self._solve_state()
        for i, (e, label) in enumerate(zip(self._all(), self._all_labels(), strict=True)):
            done, total = e.progress
            done_all, total_all = done_all + done, total_all + total
            is_control = e is self.control
            if e.is_complete:
                if label not in self.curves:
                    self.curves[label] = metrics.sparsity_curve(as_explanation(e))
                curve, status = self.curves[label], "complete"
                ready = e.num_subsets - 1
            else:
                # the Fig. 3 curve over the components already available (no solve)
                comps = e.components(ready_only=True)
                ready = len(comps)
                curve = metrics.sorted_magnitudes([c.vector for c in comps])
                status = "partial"
            zeros = int(np.count_nonzero(curve == 0))
            # 90% of the mass: the health's figure (core.health), on the curve drawn
            mass_rank = mass_rank_sorted(curve) if status == "complete" else 0
            ranks, values = display_points(curve[: curve.size - zeros], self.max_points)
            count = int(ranks.size)
            chunks += [float32_bytes(ranks), float32_bytes(values)]
            series.append({
                "label": label, "color": CONTROL_COLOR if is_control else COLORS[i % len(COLORS)],
                "dashed": is_control, "offset": offset, "count": count, "elements": int(curve.size), "zeros": zeros,
                "status": status, "components": ready, "total_components": e.num_subsets - 1,
                "state": state, "mass_rank": mass_rank,
                "mass_value": float(curve[mass_rank - 1]) if mass_rank else 0.0,
            })
            offset += 2 * count
        complete = all(s["status"] == "complete" for s in series)
        if complete and not self._reading:
            self._reading = reading_text(self.curves, self._all_labels(), self.control is not None)
        words = "" if complete else self._state_text(done_all, total_all)
        if not words:
            message = ""
        elif state == "solving":
            message = f"waiting for the first components… ({done_all:,} of {total_all:,} minimal features solved)"
        else:
            message = f"no component yet: {words}"
        with self.plot.hold_sync():
            self.plot.data = b"".join(chunks)
            self.plot.series = series
            self.plot.message = message
        self._show_note(words if state in ("stopped", "failed") else "")
        self._show_progress()

    def _figure(self):
        """Fig. 3 / Fig. 16 of the complete curves."""
        from ..figures import sparsity_figure

        if not self.curves:
            raise ValueError("no complete curve yet: wait for the solve")
        return sparsity_figure(self.curves, note=self.caveat)


def reading_text(curves: dict[str, np.ndarray], labels: Sequence[str], control: bool) -> str:
    """What complete sparsity curves show, in words, from the numbers drawn (the 90%-mass rank is
    the health's ``mass_share`` × the element count): which curve holds 90% of its L1 mass in
    fewer of its largest elements, and, with a dense control (the last label), why height and
    length are not sparsity on this absolute axis.
    """
    parts, stats = [], {}
    for label in labels:
        curve = curves[label]
        rank = mass_rank_sorted(curve)
        stats[label] = (rank, 100 * rank / max(1, curve.size), int(np.count_nonzero(curve)), curve)
    for label in labels:
        rank, share, _, _ = stats[label]
        parts.append(f"{label}: 90% of its L1 mass lies in its largest {share:.2f}% of elements (rank {rank:,}, ●)")
    text = "; ".join(parts) + "."
    if not control or len(labels) < 2:
        return text + " Fewer elements holding 90% = sparser."
    ctrl = labels[-1]
    rc, sc, nzc, cc = stats[ctrl]
    for label in labels[:-1]:
        r, share, nz, c = stats[label]
        verdict = ("sparser than the random feature" if share < sc else
                   "NOT sparser than the random feature")
        text += f" By this measure {label}'s components are {verdict} ({share:.2f}% vs {sc:.2f}%)."
        # over the ranks where either curve is drawn (past both ends, 0 vs 0 is neither above nor below)
        m = min(max(nz, nzc), c.size, cc.size)
        above = float(np.mean(c[:m] > cc[:m])) if m else 0.0
        where = ("lies above" if above >= 0.9 else "lies below" if above <= 0.1 else "crosses")
        text += (f" On this absolute axis its curve {where} the control's: height is the scale of the values "
                 f"(largest |value| {c[0]:.2e} vs {cc[0]:.2e}), not sparsity — a feature ×10 moves up a decade "
                 f"and is no less sparse. A curve ends where its exact zeros begin: {nz:,} vs {nzc:,} non-zero "
                 f"elements of {c.size:,}")
        text += ("; a longer curve means more non-zero elements, not more of the mass in them." if nz != nzc
                 else ".")
    return text


def _default_labels(explanations: Sequence[ExplanationLike]) -> list[str]:
    """The samples' labels ("seed 0"), made distinct with the patch ids where they repeat."""
    labels = [e.sample.label or f"explanation {i + 1}" for i, e in enumerate(explanations)]
    if len(set(labels)) < len(labels):
        labels = [f"{lab} N={list(e.patches)}" for lab, e in zip(labels, explanations, strict=True)]
    if len(set(labels)) < len(labels):
        labels = [f"{lab} #{i + 1}" for i, lab in enumerate(labels)]
    return labels
