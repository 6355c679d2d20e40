"""ComponentBrowser: the feature components ``I(S)`` of one explanation (Eq. 6, Fig. 2, App. F)."""
from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import torch
import traitlets

from .. import metrics, palette
from ..defaults import PRECISION_NOTES
from ._captions import caption, model_name
from ._glossary import info_html
from ._images import rgba_bytes, signed_rgba_bytes
from ._live import LiveView
from ._markup import show_errors
from ._protocol import ExplanationLike, Shown, as_explanation, as_list
from .component_gallery import ComponentGallery
from .reconstruction import ReconstructionView


class ComponentBrowser(LiveView, widgets.VBox):
    """Browse the feature components of an :class:`~prsg_widgets.Explanation`.

    Components sorted by ``‖I(S)‖₂`` as regional-pattern thumbnails ``Δx_S = g(f_N) − g(f_N − I(S))``
    (Fig. 2) with the action field ``A(S)`` outlined; filters by order ``|S|`` (toggle buttons)
    and by patch (click a patch: the components whose action field covers it); a detail panel
    (norm, ``ρ`` of Sec. 3.2.1, sparsity); and controllable reconstruction (App. F): a slider adds
    the top-k components covering the ``target`` patches and shows the image and its RMSE.

    With ``solve=True`` the explanation's minimal features are queued at once in the backend's
    non-blocking mode; components show as pending and fill in as results land.

    Python-side state (read, set, observe): ``filter_order`` (0 = all), ``filter_patch``
    (-1 = none), ``selected_subset`` (-1 = none), ``target`` (patch ids), ``k`` (components added),
    and read-only ``listed`` (subsets shown), ``rmse`` (RMSE on the target at step ``k``),
    ``reconstruction`` (:class:`~prsg_widgets.metrics.ReconstructionResult`).
    """

    export_name = "components"
    export_views = {"gallery": "components", "recon_view": "reconstruction"}
    filter_order = traitlets.Int(0)
    filter_patch = traitlets.Int(-1)
    selected_subset = traitlets.Int(-1)
    target = traitlets.List(traitlets.Int())
    k = traitlets.Int(0)
    listed = traitlets.List(traitlets.Int())
    rmse = traitlets.Float(math.nan, allow_none=True)
    health = traitlets.Dict()
    """The explanation's :meth:`~prsg_widgets.Explanation.health` once it is solved (empty before)."""

    def __init__(self, explanation: ExplanationLike | None = None, *, target: Sequence[int] | None = None,
                 max_thumbs: int = 40, solve: bool = True, line: Any = None) -> None:
        self.gallery = ComponentGallery()
        self.recon_view = ReconstructionView()
        header = self._init_live("Feature components", "260px", term="feature component")
        self.order_buttons = widgets.ToggleButtons(options=[("all", 0)], value=0, description="order |S|",
                                                   style={"button_width": "38px"})
        self.k_slider = widgets.IntSlider(value=0, min=0, max=0, description="top-k", disabled=True,
                                          continuous_update=True, layout=widgets.Layout(width="330px"))
        self.k_slider.add_class("prsg-k-slider")
        self.order_buttons.add_class("prsg-order-buttons")
        recon_box = widgets.VBox([
            widgets.HTML("<b>Controllable reconstruction</b> " + info_html("reconstruction") +
                         " <span class='prsg-muted'>· click patches of x to set the target T (orange)</span>"),
            self.k_slider, self.recon_view])
        self.health_box = widgets.HTML("")
        self.health_box.add_class("prsg-health")
        self.health_box.add_class("prsg-export-with")  # the PNG exports show it too
        self.save_button = widgets.Button(description="Save explanation", icon="save",
                                          tooltip="Explanation.save(): an .npz in the notebook's folder "
                                                  "(load it with Explanation.load)",
                                          layout=widgets.Layout(width="170px"))
        self.save_button.add_class("prsg-save")
        self.save_button.on_click(lambda _b: self._on_save_click())
        self.saved_path: str | None = None
        self.save_note = widgets.HTML("")
        self.save_note.add_class("prsg-save-note")
        tools = widgets.HBox([self.order_buttons, self.save_button, self.save_note],
                             layout=widgets.Layout(align_items="center", flex_flow="row wrap"))
        super().__init__([header, self.health_box, tools, self.gallery, recon_box])
        self.add_class("prsg-component-browser")
        self.max_thumbs = int(max_thumbs)
        self.solve = bool(solve)
        self.explanation: ExplanationLike | None = None  # set by show()
        self.reconstruction: metrics.ReconstructionResult | None = None
        self._norms: dict[int, float] = {}
        self._thumbs: dict[int, bytes] = {}
        self._scales: dict[int, float] = {}
        self._ranked: list[int] = []
        self._drafts: dict[int, bytes] = {}
        self.detail: dict[str, Any] = {}
        self._k_full = True  # the slider shows the full reconstruction (kept so when the target changes)
        self._setting_k = False  # the slider is being set from Python, not by the user

        traitlets.link((self.order_buttons, "value"), (self, "filter_order"))
        traitlets.link((self.gallery, "filter_patch"), (self, "filter_patch"))
        traitlets.dlink((self, "filter_order"), (self.gallery, "filter_order"))
        traitlets.link((self.gallery, "selected_subset"), (self, "selected_subset"))
        traitlets.link((self.recon_view, "target"), (self, "target"))
        traitlets.link((self.k_slider, "value"), (self, "k"))
        self.observe(lambda _c: self._relist(), names=["filter_order", "filter_patch"])
        self.observe(lambda _c: self._update_detail(), names=["selected_subset"])
        self.observe(self._on_target, names=["target"])
        self.observe(lambda _c: self._show_step(), names=["k"])
        if line is not None:
            self.use_line(line)
        if explanation is not None:
            self.show(explanation, target=target)

    @property
    def future(self) -> Any:
        """The background solve of the explanation (``None`` when none was queued)."""
        return self.futures[0] if self.futures else None

    @future.setter
    def future(self, fut: Any) -> None:
        self.futures = [fut] if fut is not None else []

    # ------------------------------------------------------------------ binding
    @property
    def shown(self) -> ExplanationLike:
        """The explanation shown (an error before :meth:`show`)."""
        if self.explanation is None:
            raise ValueError("the component browser shows no explanation yet: call show(explanation)")
        return self.explanation

    def show(self, explanations: Shown, *, target: Sequence[int] | None = None) -> None:
        """Show one explanation (the view protocol, :mod:`~prsg_widgets.widgets._protocol`) and
        queue its solve when ``solve`` is set; ``target``: the reconstruction's patches (default:
        the first explained patch).
        """
        (explanation,) = as_list(explanations, "ComponentBrowser", most=1)
        self._unwatch()
        self.explanation = explanation
        self._norms, self._thumbs, self._scales, self._ranked, self._drafts = {}, {}, {}, [], {}
        self.reconstruction, self.error = None, None
        self.health = {}
        self.saved_path, self.save_note.value = None, ""
        e = explanation
        data, w, h = rgba_bytes(e.image, e.value_range)
        for view in (self.gallery, self.recon_view):
            with view.hold_sync():
                view.set_grid(e.grid, w, h)
                view.patches = list(e.patches)
                view.image = data
                view.caption = caption(e)
        # everything that belonged to the previous explanation goes: no stale plot beside a new x
        with self.recon_view.hold_sync():
            self.recon_view.recon, self.recon_view.rmse, self.recon_view.rmse_other = b"", [], []
            self.recon_view.steps, self.recon_view.step, self.recon_view.tolerance = 0, 0, 0.0
            self.recon_view.status = "waiting for the solve"
        self._k_full = True
        self.k_slider.disabled = True
        self.k_slider.max = 0
        self.rmse = math.nan
        self.health_box.value = ""
        self.order_buttons.options = [("all", 0)] + [(str(i), i) for i in range(1, e.n + 1)]
        self.filter_order, self.filter_patch, self.selected_subset = 0, -1, -1
        self._update_detail()
        self.gallery.total = e.num_subsets - 1
        tgt = list(target) if target is not None else [e.patches[0]]
        self.target = [int(p) for p in tgt]
        self._watch([e])
        self.refresh()

    # ------------------------------------------------------------------ refresh
    def _refresh(self) -> None:
        e = self.explanation
        if e is None:
            return
        done, total = e.progress
        self._show_progress()
        self._show_drafts()
        ranked = e.ranking()  # the explanation ranks; the view only lists
        norms = {s: norm for s, norm in ranked if norm is not None}
        fresh = [s for s in norms if s not in self._norms]
        self._norms, self._ranked = norms, [s for s, norm in ranked if norm is not None]
        self._relist()
        if self.selected_subset >= 0 and (fresh or not self.gallery.detail.get("ready")):
            self._update_detail()
        if e.is_complete and not self.health:
            self._show_health()
        elif not e.is_complete:
            self.health_box.value = _solver_line(e) + " · health: after the solve"
        if e.is_complete and self.reconstruction is None and self.target:
            self._compute_reconstruction()
        elif not e.is_complete:
            self.recon_view.status = self._state_text(done, total)

    def _show_drafts(self, most: int = 24) -> None:
        """While no component is computable yet, the solved minimal features as images ``g(f_T)``
        (the latest ``most``; only new ones are rendered): the views' first picture.
        """
        e = self.shown
        if e.is_complete:
            if self.gallery.drafts:
                with self.gallery.hold_sync():
                    self.gallery.drafts, self.gallery.draft_thumbs = [], b""
            return
        done, total = e.progress  # the strip's count: every solved one, not only those drawn
        self.gallery.drafts_state = {"solved": done, "total": total, "state": self._solve_state()}
        solved = [t for t in e.solved_subsets() if t]
        new = [t for t in solved if t not in self._drafts]
        if new:
            images = e.render(torch.stack([e.minimal_feature(t) for t in new]))
            for t, img in zip(new, images, strict=True):
                self._drafts[t] = rgba_bytes(img, e.value_range)[0]
        shown = sorted(solved, key=lambda t: (int(t).bit_count(), t))[-most:]
        if [d["subset"] for d in self.gallery.drafts] != shown:
            with self.gallery.hold_sync():
                self.gallery.draft_thumbs = b"".join(self._drafts[t] for t in shown)
                self.gallery.drafts = [{"subset": t, "patches": e.subset_patches(t)} for t in shown]

    def _relist(self) -> None:
        e = self.explanation
        if e is None:
            return
        order, patch = int(self.filter_order), int(self.filter_patch)
        listed = e.ranking(order=order or None, covering=[patch] if patch >= 0 else None)
        shown = [s for s, _ in listed][: self.max_thumbs]
        rank = {s: i + 1 for i, s in enumerate(self._ranked)}
        self._render_thumbs([t for t in shown if t in self._norms])
        items: list[dict[str, Any]] = []
        chunks: list[bytes] = []
        prev: dict[str, Any] | None = None
        for s in shown:
            ready_s = s in self._norms
            norm = self._norms.get(s)
            tie: int | None = None  # the rank of the first of a run of equal (3 digits) norms
            if prev is not None and prev["rank"] and norm is not None and prev["norm"] is not None and \
                    f"{prev['norm']:.3g}" == f"{norm:.3g}":
                tie = prev.get("tie") or prev["rank"]
            item = {"subset": s, "patches": e.subset_patches(s), "status": "ready" if ready_s else "pending",
                    "norm": norm, "rank": rank.get(s), "thumb": -1, "scale": self._scales.get(s),
                    "tie": tie, "negligible": self._negligible(s)}
            prev = item
            if ready_s and s in self._thumbs:
                item["thumb"] = len(chunks)
                chunks.append(self._thumbs[s])
            items.append(item)
        with self.gallery.hold_sync():
            self.gallery.thumbs = b"".join(chunks)
            self.gallery.items = items
            self.gallery.hidden = len(listed) - len(shown)
        self.listed = shown
        if self.selected_subset > 0 and self.selected_subset not in shown:
            self.selected_subset = -1  # the filters exclude it: the detail panel must not keep it

    def _render_thumbs(self, subsets: Sequence[int]) -> None:
        """Regional patterns (Fig. 2) of the listed components not drawn yet: only what is shown
        is rendered, so n = 9 (511 components) costs one gallery page, not 511 renders.
        """
        missing = [s for s in subsets if s not in self._thumbs]
        if missing:
            for s, pat in zip(missing, self.shown.regional_patterns(missing), strict=True):
                # a negligible component is drawn flat: scaled to its own max, rounding noise
                # would look like a pattern
                flat = self._negligible(s)
                self._thumbs[s] = signed_rgba_bytes(torch.zeros_like(pat) if flat else pat)[0]
                self._scales[s] = float(pat.abs().max()) if pat.numel() else 0.0

    def _negligible(self, s: int) -> bool:
        """``‖I(S)‖₂`` below ``NEGLIGIBLE`` of the largest norm (numerically zero)."""
        return palette.is_negligible(self._norms.get(s), max(self._norms.values(), default=0.0))

    def _update_detail(self) -> None:
        e, s = self.explanation, int(self.selected_subset)
        if e is None or s <= 0:
            self.gallery.detail, self.gallery.detail_image = {}, b""
            self.detail = {}
            return
        if s >= e.num_subsets:
            raise traitlets.TraitError(f"subset {s} out of range for n={e.n}")
        info: dict[str, Any] = {"subset": s, "patches": e.subset_patches(s), "order": int(s).bit_count(),
                                "ready": s in self._norms}
        if s in self._norms:
            curve = metrics.sorted_magnitudes(e.component(s))  # this component's Fig. 3 curve
            stats = metrics.sparsity_stats(curve)
            info.update(
                norm=self._norms[s],
                rank=self._ranked.index(s) + 1,
                rho=_finite(metrics.real_action_field_ratio(as_explanation(e), s)),
                rho_chance=_finite(float(metrics.action_field_area(as_explanation(e), [s])[0])),
                salient_fraction=stats["salient_fraction"],
                mass_fraction=stats["mass_fraction"],
                d=int(curve.size),
            )
            self._render_thumbs([s])
            image = self._thumbs[s]
            info["scale"] = self._scales.get(s)
            keep = torch.ones(e.num_subsets, dtype=torch.bool)
            keep[s] = False  # Eq. 7 with every component but I(S): f_N − I(S)
            both = e.render(torch.stack([e.minimal_feature(e.full), e.reconstruct(keep)[e.full]]))
            with_, without = rgba_bytes(both[0], e.value_range)[0], rgba_bytes(both[1], e.value_range)[0]
        else:
            image = with_ = without = b""
        with self.gallery.hold_sync():
            self.gallery.detail_with, self.gallery.detail_without = with_, without
            self.gallery.detail_image = image
            self.gallery.detail = info
        self.detail = info

    def _complete_text(self) -> str:
        e = self.shown
        return f"{e.num_subsets} minimal features · {e.num_subsets - 1} components"

    def _figure(self):
        """Fig. 2 for the listed components that are ready (at most 12), in gallery order."""
        from ..figures import regional_patterns_figure

        e = self.explanation
        subsets = [s for s in self.listed if s in self._norms][:12]
        if e is None or not subsets:
            raise ValueError("no component is ready yet: wait for the solve")
        return regional_patterns_figure(as_explanation(e), subsets, e.regional_patterns(subsets))

    def save_explanation(self, path: str | None = None) -> str:
        """``Explanation.save`` of the shown explanation (default: an ``.npz`` named after model,
        seed and patches in the current folder); returns the path and shows it under the button.
        """
        e = self.explanation
        if e is None:
            raise ValueError("no explanation to save")
        if path is None:
            seed = e.sample.seed
            path = f"{model_name(e)}-seed{seed if seed is not None else 'x'}-N{'-'.join(map(str, e.patches))}.npz"
        out = e.save(path)
        self.saved_path = str(out)
        solved = e.progress
        note = "" if e.is_complete else f" ({solved[0]}/{solved[1]} minimal features solved so far)"
        self.save_note.value = f"<span class='prsg-muted'>saved {html.escape(str(out))}{note}</span>"
        return str(out)

    def _on_save_click(self) -> None:
        show_errors(self.save_explanation, self.save_note, "save failed: ")

    def _show_health(self) -> None:
        """The explanation's health in the header, with a plain-language warning when unhealthy."""
        h = self.shown.health()
        self.health = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                       for k, v in h.as_dict().items()}
        numbers = (f"every patch within ε {info_html('epsilon')}: {h.subsets - h.infeasible}/{h.subsets} · "
                   f"<span title='Σ‖I(S)‖₁ / ‖u(N)‖₁: 1 when components never cancel'>cancellation "
                   f"{h.cancellation:.2f}</span> {info_html('cancellation')} · <span title='Σ_T‖u(T) − û(T)‖² / "
                   f"Σ_T‖u(T)‖² with the top-{h.k} components (Sec. 3.1)'>top-{h.k} matching error "
                   f"{h.matching_error:.2g}</span> {info_html('matching error')}")
        warn = "".join(f"<div class='prsg-health-warning' style='margin-top:3px'>⚠ {html.escape(w)}</div>"
                       for w in h.warnings())
        # inline styles: an ipywidgets HTML does not get the anywidget stylesheet
        style = ("border-left:3px solid #e8590c;background:rgba(232,89,12,0.10);padding:3px 6px"
                 if warn else "border-left:3px solid #2f9e44;padding:3px 6px")
        self.health_box.value = (f"<div class='prsg-health-{'warn' if warn else 'ok'}' style='font-size:12px;"
                                 f"max-width:640px;{style}'>{_solver_line(self.shown)} · {numbers}{warn}</div>")

    # ------------------------------------------------------------------ reconstruction
    @traitlets.validate("target")
    def _validate_target(self, proposal) -> list[int]:
        ids = sorted({int(p) for p in proposal["value"]})
        e = self.explanation
        if e is not None:
            bad = [p for p in ids if p not in e.patches]
            if bad:
                raise traitlets.TraitError(
                    f"target patches {bad} are not among the explained patches {e.patches}")
        return ids

    def _on_target(self, _change) -> None:
        e = self.explanation
        if e is None:
            return
        self.reconstruction = None
        if e.is_complete and self.target:
            self._compute_reconstruction()
        elif not self.target:
            with self.recon_view.hold_sync():
                self.recon_view.status = "choose at least one target patch"
                self.recon_view.recon, self.recon_view.rmse, self.recon_view.steps = b"", [], 0
            self.k_slider.disabled = True
            self.rmse = math.nan

    def _compute_reconstruction(self) -> None:
        res = metrics.controllable_reconstruction(as_explanation(self.shown), self.target)
        self.reconstruction = res
        steps = len(res.subsets)
        # keep the user's k when only the target changed (the full reconstruction stays full)
        keep_k = not self._k_full and self.k_slider.max > 0
        with self.recon_view.hold_sync():
            self.recon_view.steps = steps
            self.recon_view.rmse = [float(v) for v in res.rmse]
            # JSON has no NaN: -1 marks "no other patch" for the view
            self.recon_view.rmse_other = [v if math.isfinite(v) else -1.0 for v in map(float, res.rmse_other)]
            self.recon_view.tolerance = float(res.tolerance)
            self.recon_view.status = ""
        want = min(int(self.k), steps) if keep_k else steps  # full: f̂_T = f_T (Eq. 7)
        self._setting_k = True
        try:
            self.k_slider.max = steps
            self.k_slider.disabled = False
            if self.k != want:
                self.k = want
            else:
                self._show_step()
        finally:
            self._setting_k = False

    def _show_step(self) -> None:
        res = self.reconstruction
        if res is None:
            return
        k = max(0, min(int(self.k), len(res.subsets)))
        if not self._setting_k:
            self._k_full = k == len(res.subsets)
        data, _, _ = rgba_bytes(res.images[k], self.shown.value_range)
        with self.recon_view.hold_sync():
            self.recon_view.step = k
            self.recon_view.recon = data
        self.rmse = float(res.rmse[k])


NEGLIGIBLE = palette.NEGLIGIBLE  # the "≈ 0" rule lives in palette.py, shared with the exported figures


def _solver_line(explanation: ExplanationLike) -> str:
    """Which solver made these components (its settings in the metadata), as the header shows it."""
    if explanation.explainer is None:
        return "loaded from file"
    mode = ("<b>nested</b> (interactive mode: fast, bounded by smaller subsets) " + info_html("nested")
            if explanation.meta.solver.get("nested") else "<b>independent</b> solve")
    precision = explanation.meta.precision
    note = PRECISION_NOTES.get(precision, "")
    return f"solver: {mode} · {precision}" + (f" ({note})" if note else "")


def _finite(value: float, default: float | None = None) -> float | None:
    """JSON has no NaN: send ``default`` instead."""
    return float(value) if value is not None and math.isfinite(value) else default
