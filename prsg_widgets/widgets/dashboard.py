"""``explore()``: the four widgets composed into one dashboard on a built-in model."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import ipywidgets as widgets

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
    ``curve``, ``pairer``.
    """

    def __init__(self, explainer: Any, *, seed: int = 0, n: int = 4, seed_b: Optional[int] = None,
                 patches: Optional[Sequence[int]] = None, solve: bool = True, title: str = "") -> None:
        self.explainer = explainer
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
        self.explain_button.on_click(lambda _b: self.explain())
        self.seed_box.observe(self._on_seed, names=["value"])
        gen = explainer.generator
        info = widgets.HTML(
            f"<div style='font-size:12px;color:#666;max-width:260px'>model <b>{gen.name}</b>, layer "
            f"<code>{gen.layer}</code> (d = {gen.d:,}), {explainer.grid.size}×{explainer.grid.size} grid, "
            f"ε = {explainer.epsilon:.1e}</div>")
        self.mode = widgets.HTML("")
        self.mode.add_class("prsg-solver-mode")
        self.independent_button = widgets.Button(description="Re-solve independently", icon="refresh",
                                                 tooltip="solve every subset on its own (the reference; "
                                                         "slower on a CPU)", layout=widgets.Layout(width="210px"))
        self.independent_button.add_class("prsg-independent")
        self.independent_button.on_click(lambda _b: self.resolve_independently())
        self._show_mode()
        left = widgets.VBox([self.selector, self.seed_box, self.explain_button, info, self.mode,
                             self.independent_button],
                            layout=widgets.Layout(width="290px", flex="none"))

        self.explanation = explainer.explain(self.selector.sample, patches=self.selector.selected)
        self.browser = ComponentBrowser(self.explanation, solve=solve)
        self.curve = SparsityCurve(self.explanation, solve=solve, width=480, height=260)
        self.pairer = TransferabilityPairer(self.explanation, seed_b=int(seed_b if seed_b is not None else seed + 1),
                                            solve=solve)
        heading = widgets.HTML(
            f"<h3 style='margin:4px 0'>{title or 'Primitive representation structures'}</h3>"
            "<div style='color:#666;font-size:12px'>Feature components I(S) = OR Harsanyi interactions "
            "of the minimal features f_T; solves run in the background and the views fill in.</div>")
        top = widgets.HBox([left, self.browser], layout=widgets.Layout(align_items="flex-start"))
        bottom = widgets.HBox([self.curve, self.pairer],
                              layout=widgets.Layout(align_items="flex-start", flex_flow="row wrap"))
        super().__init__([heading, top, bottom], layout=widgets.Layout())
        self.add_class("prsg-dashboard")

    def _show_mode(self) -> None:
        config = self.explainer.config
        if config.nested:
            text = ("solver: <b>nested</b> — the interactive mode: subsets solved by increasing size, "
                    "each bounded by its smaller subsets (≈ 50× fewer iterations). It also makes random "
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
                                   cache_dir=old.cache.directory if old.cache is not None else None)
        self._show_mode()
        return self.explain(list(self.explanation.patches))

    def wait(self, timeout: Optional[float] = None) -> "Dashboard":
        """Block until every queued solve of the views has finished (scripts, tests, notebook
        runs without a front-end; in JupyterLab the views fill in without it), then refresh."""
        for view in (self.browser, self.curve, self.pairer):
            for fut in list(view.futures):
                fut.result(timeout=timeout)
        for view in (self.browser, self.curve, self.pairer):
            view._refresher()  # under the view's lock: a worker-thread refresh may be running
        return self

    def _on_seed(self, change) -> None:
        self.selector.set_sample(int(change["new"]))
        self.selector.auto()

    def explain(self, patches: Optional[Sequence[int]] = None) -> Any:
        """Explain the selector's sample over ``patches`` (default: the selected ones) and point
        all views at the new explanation; returns it."""
        ids = list(patches) if patches is not None else list(self.selector.selected)
        if not ids:
            self.selector.message = "select at least one patch first"
            raise ValueError(self.selector.message)
        self.explanation = self.explainer.explain(self.selector.sample, patches=ids)
        self.browser.set_explanation(self.explanation)
        self.curve.set_explanations([self.explanation])
        self.pairer.set_explanation_a(self.explanation)
        return self.explanation


def explore(model: Any = "dcgan-faces", *, seed: int = 0, n: int = 4, grid: int = 6,
            solver: Optional[str] = None, cheap: bool = True, seed_b: Optional[int] = None,
            patches: Optional[Sequence[int]] = None, explainer: Any = None, solve: bool = True,
            **explainer_kwargs) -> Dashboard:
    """One call to explore a built-in model (the natural first cell of a notebook).

    Builds an :class:`~prsg_widgets.Explainer` (``model`` a built-in name or a
    :class:`~prsg_widgets.SplitGenerator`; ``grid``, ``solver`` preset, ``cheap`` layer and any
    other ``Explainer`` keyword), picks the ``n`` foreground patches of ``sample(seed)`` (or
    ``patches``) and returns the :class:`Dashboard`, whose solves run in the background.
    Pass ``explainer=`` to reuse one.  ``solver=None`` picks ``"interactive"`` (nested) on a CPU
    and ``"fast"`` (independent) on a GPU; the dashboard labels the mode and offers a one-click
    independent re-solve.
    """
    if explainer is None:
        import torch

        from ..backend import Explainer

        if solver is None:
            on_gpu = torch.cuda.is_available() and explainer_kwargs.get("device") in (None, "cuda")
            solver = "fast" if on_gpu else "interactive"

        explainer_kwargs.setdefault("progress", False)  # the widgets show progress
        explainer = Explainer(model, grid=grid, solver=solver, cheap=cheap, **explainer_kwargs)
    return Dashboard(explainer, seed=seed, n=n, seed_b=seed_b, patches=patches, solve=solve)
