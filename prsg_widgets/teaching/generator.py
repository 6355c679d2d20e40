"""The generator half of the teaching notebook: components held against a known answer, a panel
to delete components and watch what changes, what each deletion turns an object into (measured
colours, in words), and the health warning that goes wherever ρ is reported.

Sign convention, one for every signed picture of the notebook (:data:`SIGN_LEGEND`): a picture of
a difference shows ``Δx = g(f_N) − g(f_N − I(S))`` (the paper's regional pattern, Fig. 2) — what
the component adds to the picture, which is what deleting it takes away.

Every number comes from the explanation's public API (``component``, ``reconstruct`` — Eq. 7 —,
``render``, ``health``) and :mod:`prsg_widgets.metrics`; the panels only wire checkboxes to them.
ipywidgets is imported only when a panel is built.
"""
from __future__ import annotations

import colorsys
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class KnownComponent:
    """One component of a known answer beside the solver's: ``S`` (bitmask), its patches, the
    object it belongs to, the true and found norms and the relative error ``‖I − I*‖ / ‖I*‖``.
    """

    subset: int
    patches: list
    name: str
    true_norm: float
    found_norm: float
    rel_error: float
    rank: int


def compare_with_answer(explanation, answer: dict, names: dict | None = None) -> list[KnownComponent]:
    """For each component of ``answer`` (``{S: I*(S)}``, e.g.
    :func:`prsg_widgets.models.planted.planted_answer`; ``names``: ``{S: name}``), the solver's
    component of the same ``S`` and its rank by norm among all of the explanation's components.
    """
    order = [c.subset for c in explanation.components()]
    out = []
    for s, truth in sorted(answer.items(), key=lambda kv: -float(kv[1].norm())):
        name = (names or {}).get(s, "")
        found = explanation.component(s).double()
        t = truth.double().reshape(-1)
        out.append(KnownComponent(s, explanation.subset_patches(s), name, float(t.norm()), float(found.norm()),
                                  float((found - t).norm() / t.norm()), order.index(s) + 1))
    return out


def answer_table(rows: Sequence[KnownComponent], explanation) -> str:
    """The comparison as text: one line per known component, then the largest other component."""
    lines = [f"{'object':<8} {'S (patches)':<14} {'true ‖I‖₂':>9} {'found':>8} {'rel. error':>10} {'rank':>5}"]
    for r in rows:
        lines.append(f"{r.name:<8} {str(r.patches):<14} {r.true_norm:>9.3f} {r.found_norm:>8.3f} "
                     f"{r.rel_error:>10.1e} {r.rank:>5}")
    known = {r.subset for r in rows}
    others = [c for c in explanation.components() if c.subset not in known]
    if others:
        lines.append(f"every other component (of {len(others)}): ‖I‖₂ ≤ {others[0].norm:.3g} "
                     f"(the true value is 0)")
    return "\n".join(lines)


def without(explanation, removed: Sequence[int]) -> Tensor:
    """``g(b + Σ_{S ∉ removed} I(S))``: the image with the components ``removed`` deleted (Eq. 7 at
    ``T = N``), ``(C, H, W)``.
    """
    keep = torch.ones(explanation.num_subsets, dtype=torch.bool)
    for s in removed:
        keep[explanation.subset(s)] = False
    return explanation.render(explanation.reconstruct(keep)[explanation.full].unsqueeze(0))[0]


SIGN_LEGEND = ("Signed pictures show Δx = g(f_N) − g(f_N − I(S)), what the component adds (= what deleting it "
               "takes away): grey = 0; a tint of a colour = the component adds that colour there; the opposite "
               "tint (magenta on a green object) = it takes that colour away, so deleting it makes the object greener")
"""The legend of every signed picture in the teaching material (regional patterns and the removal
panel use the same sign)."""


def deletion_change(explanation, removed: Sequence[int]) -> Tensor:
    """``g(f_N) − g(f_N − Σ_{S ∈ removed} I(S))`` ``(C, H, W)``: what deleting ``removed`` takes
    away.  For one component it is its regional pattern ``Δx_S`` (same sign, :data:`SIGN_LEGEND`).
    """
    full = explanation.render(explanation.minimal_feature(explanation.full).unsqueeze(0))[0]
    return full - without(explanation, removed)


def colour_name(rgb: Sequence[float]) -> str:
    """A plain name for an RGB colour in [-1, 1] (the generators' range): a hue (red, orange,
    yellow, green, cyan, blue, purple, magenta) or grey, with "dark"/"bright" and "greyish"
    qualifiers from its value and saturation.  Used to put measured colours into sentences.
    """
    r, g, b = ((min(max(float(c), -1.0), 1.0) + 1) / 2 for c in rgb)
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    tone = "dark " if v < 0.45 else "bright " if v >= 0.8 else ""
    if s < 0.12:
        return "white" if v >= 0.9 else "black" if v < 0.12 else f"{tone}grey"
    deg = 360 * h
    hue = next(name for limit, name in ((15, "red"), (45, "orange"), (70, "yellow"), (165, "green"),
                                        (200, "cyan"), (260, "blue"), (290, "purple"), (345, "magenta"),
                                        (361, "red")) if deg < limit)
    return f"{tone}{'greyish ' if s < 0.35 else ''}{hue}"


def _fmt(rgb: Sequence[float]) -> str:
    return "(" + ", ".join(f"{c:+.2f}" for c in rgb) + ")"


@dataclass(frozen=True)
class DeletionEffect:
    """What deleting one component does to one object, measured on the rendered pictures: the
    object's mean colour (RGB in [-1, 1]) in ``g(f_N)`` (``before``), in ``g(f_N − I(S))``
    (``after``) and in the baseline image ``g(b)`` (``baseline``); the background's mean colour
    in ``g(f_N)`` (pixels on no object); and the share of ``|Δx|`` on the object's pixels.
    """

    subset: int
    patches: tuple[int, ...]
    name: str
    before: tuple[float, ...]
    after: tuple[float, ...]
    baseline: tuple[float, ...]
    background: tuple[float, ...]
    on_object: float
    tol: float = 0.05

    @staticmethod
    def _dist(a: Sequence[float], b: Sequence[float]) -> float:
        return math.dist(a, b)

    @property
    def to_baseline(self) -> float:
        """Distance (RGB, Euclidean) from the object after deletion to its colour in ``g(b)``."""
        return self._dist(self.after, self.baseline)

    @property
    def to_background(self) -> float:
        """Distance from the object after deletion to the background colour."""
        return self._dist(self.after, self.background)

    @property
    def becomes_baseline(self) -> bool:
        """The object takes its baseline colour (within ``tol``)."""
        return self.to_baseline <= self.tol

    @property
    def becomes_background(self) -> bool:
        """The object fades into the background (within ``tol``)."""
        return self.to_background <= self.tol

    @property
    def stronger(self) -> bool:
        """The object stands out more after the deletion (further from the background colour)."""
        return self.to_background > self._dist(self.before, self.background)

    def sentence(self) -> str:
        """The measured effect in words, with the numbers it rests on."""
        where = ("its colour in the baseline image g(b)" if self.becomes_baseline
                 else f"not its colour in g(b) {_fmt(self.baseline)}")
        bg = "the background colour" if self.becomes_background else "not the background colour"
        was, now = colour_name(self.before), colour_name(self.after)
        if now == was:  # same name: say which way it moved
            now = f"a {'stronger' if self.stronger else 'paler'} {now}"
        return (f"delete I({{{', '.join(map(str, self.patches))}}}) ({self.name}): the {self.name} goes from "
                f"{was} {_fmt(self.before)} to {now} {_fmt(self.after)}, "
                f"{'further from' if self.stronger else 'closer to'} the background {_fmt(self.background)}; "
                f"that is {where} (distance {self.to_baseline:.3f}), {bg} (distance {self.to_background:.2f}); "
                f"{self.on_object:.1%} of the change is on the {self.name}")


def deletion_effects(explanation, names: Mapping[int, str], regions: Mapping[str, Tensor],
                     tol: float = 0.05) -> list[DeletionEffect]:
    """For each component ``S`` of ``names`` (``{S: object name}``), delete it alone and measure its
    object (``regions[name]``, an ``(H, W)`` bool mask) in ``g(f_N)``, ``g(f_N − I(S))`` and
    ``g(b)``; the background is every pixel outside all ``regions``.  ``tol`` is the RGB distance
    under which two colours count as the same.
    """
    full = explanation.render(explanation.minimal_feature(explanation.full).unsqueeze(0))[0]
    base = explanation.render(explanation.baseline.reshape(1, -1))[0]
    masks = {k: m.bool().cpu() for k, m in regions.items()}
    off = ~torch.stack(list(masks.values())).any(0)
    if not bool(off.any()):
        raise ValueError("the regions cover the whole image: no background pixel to measure")

    def mean(img: Tensor, m: Tensor) -> tuple[float, ...]:
        return tuple(float(x) for x in img[:, m].double().mean(1))

    out = []
    for s, name in names.items():
        if name not in masks:
            raise ValueError(f"no region for {name!r}; regions: {', '.join(masks)}")
        m = masks[name]
        after = without(explanation, [s])
        change = (full - after).abs().sum(0)
        total = float(change.sum())
        out.append(DeletionEffect(s, tuple(explanation.subset_patches(s)), name, mean(full, m), mean(after, m),
                                  mean(base, m), mean(full, off),
                                  float(change[m].sum()) / total if total > 0 else float("nan"), tol))
    return out


def deletion_summary(effects: Sequence[DeletionEffect]) -> str:
    """One sentence over all ``effects``: what the deleted objects turn into (the baseline's
    colour, the background, or neither — counted), how many stand out more or less, and how
    much of each change stays on its object.
    """
    if not effects:
        return "no component was deleted"
    k = len(effects)
    base = sum(e.becomes_baseline for e in effects)
    bg = sum(e.becomes_background for e in effects)
    stronger = [e.name for e in effects if e.stronger]
    weaker = [e.name for e in effects if not e.stronger]
    least = min(e.on_object for e in effects)
    within = max(e.to_baseline for e in effects)
    into = (f"takes its colour in the baseline image g(b) ({base} of {k}, within {within:.3f})" if base == k
            else f"takes its baseline colour in {base} of {k} cases")
    return (f"Deleting a planted component changes its object, which {into}; {bg} of {k} objects end at the "
            f"background colour. Stronger afterwards: {', '.join(stronger) or 'none'}; weaker: "
            f"{', '.join(weaker) or 'none'}. "
            + (f"Nothing else moves: at least {least:.1%} of each change is on its own object."
               if least >= 0.999 else f"Other pixels move too: as little as {least:.1%} of a change is on its object."))


def health_note(health) -> str:
    """The explanation's health warnings (:meth:`prsg_widgets.core.health.Health.warnings`) as one
    line to print beside any ρ or component read from it; empty when it is healthy.
    """
    warnings = health.warnings()
    if not warnings:
        return ""
    return "⚠ health check: " + " ".join(warnings) + " Read its ρ and its components with that in mind."


def regional_pattern_row(explanation, rows: Sequence[KnownComponent], size: int = 150):
    """The scene with its patches ``N`` (blue), then each known component's regional pattern
    ``Δx_S`` (:data:`SIGN_LEGEND`) with ``A(S)`` outlined: a ``PictureRow``.
    """
    from ..widgets.picture_row import PictureRow

    pictures = PictureRow(explanation.grid, size=size)
    pictures.show([explanation.image] + list(explanation.regional_patterns([r.subset for r in rows])),
                  ["the scene x, patches N"]
                  + [f"Δx for I({{{', '.join(map(str, r.patches))}}}) — {r.name}" for r in rows],
                  [list(explanation.patches)] + [r.patches for r in rows], ["#1c7ed6"] + ["#d6336c"] * len(rows),
                  signed=[False] + [True] * len(rows), note=SIGN_LEGEND)
    return pictures


def removal_panel(explanation, top: int = 6, labels: dict | None = None, size: int = 168):
    """Checkboxes for the ``top`` components by norm (numerically zero ones left out); ticking one
    deletes it from ``f_N`` and the picture beside ``g(f_N)`` shows at once what is left, and the
    third what the deletion took away (:func:`deletion_change`, the sign of :data:`SIGN_LEGEND`),
    with the deleted components' action fields outlined.
    ``labels`` maps a subset to a name (e.g. the object it belongs to).  Returns the ``VBox``;
    ``.removed()`` lists the ticked.
    """
    import ipywidgets as W

    from ..widgets.picture_row import PictureRow

    comps = explanation.components(top=top)
    comps = [c for c in comps if c.norm > 1e-4 * comps[0].norm]  # numerically zero ones change nothing
    labels = labels or {}
    boxes = [W.Checkbox(value=False, indent=False, layout=W.Layout(width="auto"),
                        description=f"delete I({{{', '.join(map(str, c.patches))}}})"
                                    + (f" — {labels[c.subset]}" if c.subset in labels else "")
                                    + f" · ‖I‖₂ = {c.norm:.3g}") for c in comps]
    pictures = PictureRow(explanation.grid, size=size)
    full = explanation.render(explanation.minimal_feature(explanation.full).unsqueeze(0))[0]
    vr = explanation.value_range

    def removed() -> list[int]:
        return [c.subset for c, b in zip(comps, boxes, strict=True) if b.value]

    def refresh(*_):
        gone = removed()
        img = without(explanation, gone) if gone else full
        field = sorted({p for s in gone for p in explanation.subset_patches(s)})
        pictures.show([full, img, full - img],
                      ["g(f_N): every component", "g(f_N − the deleted components)" if gone else "nothing deleted yet",
                       "Δx: what the deletion took away"], [list(explanation.patches), field, field],
                      ["#1c7ed6", "#d6336c", "#d6336c"], value_range=vr, signed=[False, False, True],
                      note=f"deleted: {len(gone)} of the top {len(comps)} components"
                           + ("" if gone else " — tick a box") + ". " + SIGN_LEGEND)

    for b in boxes:
        b.observe(refresh, "value")
    refresh()
    box = W.HBox([W.VBox(boxes, layout=W.Layout(min_width="300px")), pictures])
    box.removed = removed
    box.pictures = pictures
    box.checkboxes = boxes
    return box
