"""The generator half of the teaching notebook: components held against a known answer, and a
panel to delete components and watch what disappears.

Every number comes from the explanation's public API (``component``, ``reconstruct`` — Eq. 7 —,
``render``, ``health``) and :mod:`prsg_widgets.metrics`; the panels only wire checkboxes to them.
ipywidgets is imported only when a panel is built.
"""
from __future__ import annotations

from collections.abc import Sequence
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


def removal_panel(explanation, top: int = 6, labels: dict | None = None, size: int = 168):
    """Checkboxes for the ``top`` components by norm (numerically zero ones left out); ticking one
    deletes it from ``f_N`` and the picture beside ``g(f_N)`` shows at once what disappears (and
    the difference, grey = none), with the deleted components' action fields outlined.
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
        pictures.show([full, img, img - full],
                      ["g(f_N): every component", "g(f_N − the deleted components)" if gone else "nothing deleted yet",
                       "what changed (grey = nothing)"], [list(explanation.patches), field, field],
                      ["#1c7ed6", "#d6336c", "#d6336c"], value_range=vr, signed=[False, False, True],
                      note=f"deleted: {len(gone)} of the top {len(comps)} components"
                           + ("" if gone else " — tick a box"))

    for b in boxes:
        b.observe(refresh, "value")
    refresh()
    box = W.HBox([W.VBox(boxes, layout=W.Layout(min_width="300px")), pictures])
    box.removed = removed
    box.pictures = pictures
    box.checkboxes = boxes
    return box
