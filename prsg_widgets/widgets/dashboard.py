"""``explore()``: the four widgets composed into one dashboard on a built-in model."""
from __future__ import annotations

import html
from typing import Any, Optional, Sequence

import ipywidgets as widgets

from ._common import SPEED, _duration, _kernel_loop, describe, info_html
from .component_browser import ComponentBrowser
from .patch_grid import PatchGridSelector
from .sparsity_curve import SparsityCurve
from .transferability import TransferabilityPairer


class Dashboard(widgets.VBox):
    """The ``explore()`` dashboard: pick patches (:class:`PatchGridSelector`), browse the
    components (:class:`ComponentBrowser`), their sparsity against the dense control
    (:class:`SparsityCurve`) and their transferability to a second sample
    (:class:`TransferabilityPairer`).  "Explain selection" re-runs the pipeline on the patches
    selected; the seed box shows another sample.

    Attributes: ``explainer``, ``explanation`` (the current one), ``selector``, ``browser``,
    ``curve``, ``pairer``; ``stale`` (the selector's seed or patches differ from what the views
    show: they are then greyed with a badge until Explain), ``progress`` (solved, total),
    :meth:`estimate` (what Explain would solve, and how long at the measured speed).  The
    Explain button asks before solving more than ``confirm_above`` minimal features per image.
    :meth:`wait` blocks only outside JupyterLab / Notebook 7 (or with ``block=True``).
    """

    def __init__(self, explainer: Any, *, seed: int = 0, n: int = 4, seed_b: Optional[int] = None,
                 patches: Optional[Sequence[int]] = None, solve: bool = True, title: str = "",
                 confirm_above: int = 256) -> None:
        self.explainer = explainer
        self.confirm_above = int(confirm_above)
        """Ask before solving more than this many minimal features per image (or an estimated
        two minutes): the Explain button then shows the estimate and a confirm button."""
        self.solve = bool(solve)
        self.selector = PatchGridSelector(explainer, seed, auto_n=n, display_size=256,
                                          title="1 · choose the patches N")
        if patches is None:
            self.selector.auto()
        else:
            self.selector.selected = list(patches)
        self.seed_box = widgets.BoundedIntText(value=int(seed), min=0, max=2 ** 31 - 1, description="seed",
                                               layout=widgets.Layout(width="170px"))
        self.seed_box.add_class("prsg-seed")
        self.explain_button = widgets.Button(description="Explain selection", button_style="primary",
                                             icon="play", layout=widgets.Layout(width="170px"))
        self.explain_button.add_class("prsg-explain")
        self.explain_button.on_click(lambda _b: self._on_explain_click())
        self.seed_box.observe(self._on_seed, names=["value"])
        self.estimate_note = widgets.HTML("")
        self.estimate_note.add_class("prsg-estimate")
        self.confirm_text = widgets.HTML("")
        self.confirm_button = widgets.Button(description="Solve anyway", button_style="warning",
                                             layout=widgets.Layout(width="130px"))
        self.confirm_button.add_class("prsg-confirm")
        self.confirm_button.on_click(lambda _b: self._on_confirm())
        self.confirm_cancel = widgets.Button(description="Not now", layout=widgets.Layout(width="90px"))
        self.confirm_cancel.add_class("prsg-confirm-cancel")
        self.confirm_cancel.on_click(lambda _b: self._hide_confirm())
        self.confirm_box = widgets.VBox([self.confirm_text, widgets.HBox([self.confirm_button, self.confirm_cancel])],
                                        layout=widgets.Layout(display="none"))
        self.confirm_box.add_class("prsg-confirm-box")
        self.explain_note = widgets.HTML("")
        gen = explainer.generator
        info = widgets.HTML(
            f"<div class='prsg-muted' style='font-size:12px;max-width:260px'>model <b>{gen.name}</b>, layer "
            f"<code>{gen.layer}</code> (d = {gen.d:,}), {explainer.grid.size}×{explainer.grid.size} grid, "
            f"ε = {explainer.epsilon:.1e} {info_html('epsilon')}</div>")
        self.mode = widgets.HTML("")
        self.mode.add_class("prsg-solver-mode")
        self.independent_button = widgets.Button(description="Re-solve independently", icon="refresh",
                                                 tooltip="solve every subset on its own (the reference; "
                                                         "slower on a CPU)", layout=widgets.Layout(width="210px"))
        self.independent_button.add_class("prsg-independent")
        self.independent_button.on_click(lambda _b: self.resolve_independently())
        self._show_mode()
        left = widgets.VBox([self.selector, self.seed_box, self.explain_button, self.estimate_note,
                             self.confirm_box, info, self.mode, self.independent_button],
                            layout=widgets.Layout(width="290px", flex="none"))

        self.explanation = explainer.explain(self.selector.sample, patches=self.selector.selected)
        self.browser = ComponentBrowser(self.explanation, solve=solve)
        self.curve = SparsityCurve(self.explanation, solve=solve, width=480, height=260)
        self.pairer = TransferabilityPairer(self.explanation, seed_b=int(seed_b if seed_b is not None else seed + 1),
                                            solve=solve)
        heading = widgets.HTML(
            f"<h3 style='margin:4px 0'>{title or 'Primitive representation structures'}</h3>"
            "<div class='prsg-muted' style='font-size:12px'>Feature components I(S) " + info_html("feature component")
            + " = OR Harsanyi interactions " + info_html("OR interaction") + " of the minimal features f_T "
            + info_html("minimal feature") + "; solves run in the background and the views fill in. Colours: "
            "<span style='color:#1c7ed6'>■ chosen patches N</span> · <span style='color:#d6336c'>■ action field "
            "A(S)</span> · <span style='color:#0c8599'>■ patch filter</span> · <span style='color:#e8590c'>■ "
            "target T</span> · <span style='color:#2f9e44'>■ found in both images</span></div>")
        top = widgets.HBox([left, self.browser], layout=widgets.Layout(align_items="flex-start"))
        bottom = widgets.HBox([self.curve, self.pairer],
                              layout=widgets.Layout(align_items="flex-start", flex_flow="row wrap"))
        super().__init__([heading, top, bottom], layout=widgets.Layout())
        self.add_class("prsg-dashboard")
        self.selector.observe(lambda _c: self._update_stale(), names=["selected"])
        self._update_stale()

    def _show_mode(self) -> None:
        config = self.explainer.config
        if config.nested:
            text = ("solver: <b>nested</b> " + info_html("nested") + " — the interactive mode: subsets solved by increasing size, "
                    "each bounded by its smaller subsets (several times fewer iterations). It also makes random "
                    "features look sparse: compare sparsity with an independent solve.")
        else:
            text = "solver: <b>independent</b> — every subset solved on its own (the reference)."
        self.mode.value = f"<div style='font-size:12px;max-width:270px'>{text}</div>"
        self.independent_button.layout.display = None if config.nested else "none"

    def resolve_independently(self) -> Any:
        """Switch to the independent solve (same model, settings otherwise) and re-explain the
        current patches; returns the new explanation."""
        from ..backend import Explainer
        from ..core.solver import get_solver_config

        old = self.explainer
        self.explainer = Explainer(old.generator, grid=old.grid.size, device=old.device,
                                   solver=get_solver_config(old.config, nested=False), batch_size=old.batch_size,
                                   max_patches=old.max_patches, baseline_samples=old.baseline_samples,
                                   baseline_seed=old.baseline_seed, progress=old.progress,
                                   cache_dir=old.cache_dir)
        self._show_mode()
        return self.explain(list(self.explanation.patches))

    def wait(self, timeout: Optional[float] = None, block: Optional[bool] = None) -> Optional["Dashboard"]:
        """Block until every queued solve of the views has finished, then refresh (scripts,
        tests, notebook runs without a front-end).

        ``block=None`` (default) does not block in a kernel driven by JupyterLab or Notebook 7:
        there the views fill in by themselves and a blocking cell would hold up "Run All" and
        freeze the views; it returns ``None`` at once (so a cell ending in ``d.wait()`` shows no
        second dashboard).  ``block=True`` always blocks."""
        if block is None:
            block = not _interactive_frontend()
        if not block:
            done, total = self.progress
            print(f"d.wait(): not blocking in JupyterLab / Notebook 7 — the views fill in as results land "
                  f"({done}/{total} minimal features solved so far); d.wait(block=True) blocks.")
            return None
        for view in (self.browser, self.curve, self.pairer):
            for fut in list(view.futures):
                fut.result(timeout=timeout)
        for view in (self.browser, self.curve, self.pairer):
            view._refresher()  # under the view's lock: a worker-thread refresh may be running
        return self

    @property
    def progress(self) -> tuple[int, int]:
        """``(solved, total)`` minimal features over every explanation the views show."""
        seen: list[Any] = []
        for view in (self.browser, self.curve, self.pairer):
            for e in view._watched:
                if all(e is not o for o in seen):
                    seen.append(e)
        return sum(e.progress[0] for e in seen), sum(e.progress[1] for e in seen)

    @property
    def stale(self) -> bool:
        """Whether the selector's seed or patches differ from the explanation the views show."""
        e = self.explanation
        return (sorted(self.selector.selected) != sorted(e.patches)
                or getattr(self.selector.sample, "seed", None) != getattr(e.sample, "seed", None))

    def _update_stale(self) -> None:
        stale = self.stale
        for view in (self.browser, self.curve, self.pairer):
            if view.stale != stale:
                view.mark_stale(stale)
        self.explain_button.description = "Explain selection" + (" ⟳" if stale else "")
        self._update_estimate()

    def estimate(self, n: Optional[int] = None) -> dict:
        """What "Explain selection" would solve for ``n`` patches (default: the selection):
        ``minimal_features`` per image, ``total`` over the views (image a, image b, the dense
        control), and ``seconds`` from the speed measured on this explainer (``None`` before any
        solve was timed)."""
        n = len(self.selector.selected) if n is None else int(n)
        per = 2 ** n
        total = per * (2 + int(self.curve.dense_control))
        speed = SPEED.get(id(self.explainer))
        return {"n": n, "minimal_features": per, "total": total,
                "seconds": speed * total if speed is not None else None}

    def _update_estimate(self) -> None:
        est = self.estimate()
        if est["n"] == 0:
            self.estimate_note.value = "<div class='prsg-estimate-line'>select at least one patch</div>"
            return
        when = (f"≈ {_duration(est['seconds'])} at the speed measured here" if est["seconds"] is not None
                else "time: measured after the first solve")
        self.estimate_note.value = (f"<div class='prsg-estimate-line'>{est['n']} patch{'es' if est['n'] > 1 else ''} → "
                                    f"2^{est['n']} = "
                                    f"{est['minimal_features']:,} minimal features per image, {est['total']:,} "
                                    f"with image b and the dense control · {when}</div>")

    def _needs_confirm(self, est: dict) -> bool:
        return est["minimal_features"] > self.confirm_above or (est["seconds"] or 0) > 120

    def _on_explain_click(self) -> None:
        """The Explain button: no error into the kernel when nothing is selected, and a confirm
        step above ``confirm_above`` minimal features."""
        if not self.selector.selected:
            self.selector.message = "select at least one patch first (click the image or press auto)"
            return
        est = self.estimate()
        if self._needs_confirm(est):
            when = f" (≈ {_duration(est['seconds'])})" if est["seconds"] is not None else ""
            self.confirm_text.value = (f"<div class='prsg-confirm-text'>⚠ {est['total']:,} minimal features to solve"
                                       f"{when}. On a CPU this can take long; Cancel in any view stops it.</div>")
            self.confirm_box.layout.display = None
            return
        self.explain()

    def _on_confirm(self) -> None:
        self._hide_confirm()
        self.explain()

    def _hide_confirm(self) -> None:
        self.confirm_box.layout.display = "none"

    def _on_seed(self, change) -> None:
        self.selector.set_sample(int(change["new"]))
        self.selector.auto()
        self._update_stale()

    def explain(self, patches: Optional[Sequence[int]] = None) -> Any:
        """Explain the selector's sample over ``patches`` (default: the selected ones) and point
        all views at the new explanation; returns it."""
        ids = list(patches) if patches is not None else list(self.selector.selected)
        if not ids:
            self.selector.message = "select at least one patch first"
            raise ValueError(self.selector.message)
        self._hide_confirm()
        self.explanation = self.explainer.explain(self.selector.sample, patches=ids)
        self.browser.set_explanation(self.explanation)
        self.curve.set_explanations([self.explanation])
        self.pairer.set_explanation_a(self.explanation)
        self._update_stale()
        return self.explanation


def _interactive_frontend() -> bool:
    """Whether the running cell was sent by JupyterLab or Notebook 7 (their execute requests
    carry ``recordTiming`` / ``deletedCells`` metadata; nbclient, nbval, papermill and Voila
    send neither) — there the views update live and blocking would only freeze them."""
    if _kernel_loop() is None:
        return False
    try:
        from IPython import get_ipython

        kernel = get_ipython().kernel
        parent = kernel.get_parent() if hasattr(kernel, "get_parent") else getattr(kernel, "_parent_header", {})
        meta = (parent or {}).get("metadata") or {}
    except Exception:  # pragma: no cover - not an ipykernel
        return False
    return "recordTiming" in meta or "deletedCells" in meta


def explore(model: Any = "dcgan-faces", *, seed: int = 0, n: int = 4, grid: int = 6,
            solver: Optional[str] = None, cheap: bool = True, seed_b: Optional[int] = None,
            patches: Optional[Sequence[int]] = None, explainer: Any = None, solve: bool = True,
            confirm_above: int = 256, **explainer_kwargs) -> Dashboard:
    """One call to explore a built-in model (the natural first cell of a notebook).

    Builds an :class:`~prsg_widgets.Explainer` (``model`` a built-in name or a
    :class:`~prsg_widgets.SplitGenerator`; ``grid``, ``solver`` preset, ``cheap`` layer and any
    other ``Explainer`` keyword), picks the ``n`` foreground patches of ``sample(seed)`` (or
    ``patches``) and returns the :class:`Dashboard`, whose solves run in the background.
    Pass ``explainer=`` to reuse one.  ``solver=None`` picks ``"interactive"`` (nested) on a CPU
    and ``"fast"`` (independent) on a GPU; the dashboard labels the mode and offers a one-click
    independent re-solve.  Above ``confirm_above`` minimal features per image the Explain
    button shows the estimate and asks before solving.
    """
    if explainer is None:
        import torch

        from ..backend import Explainer

        if solver is None:
            on_gpu = torch.cuda.is_available() and explainer_kwargs.get("device") in (None, "cuda")
            solver = "fast" if on_gpu else "interactive"

        explainer_kwargs.setdefault("progress", False)  # the widgets show progress
        explainer = Explainer(model, grid=grid, solver=solver, cheap=cheap, **explainer_kwargs)
    return Dashboard(explainer, seed=seed, n=n, seed_b=seed_b, patches=patches, solve=solve,
                     confirm_above=confirm_above)
