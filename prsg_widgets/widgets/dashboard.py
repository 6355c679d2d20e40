"""``explore()``: the four widgets composed into one dashboard on a built-in model."""
from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import ipywidgets as widgets

from ..backend.progress import RateMeter, solve_estimate, solved_pairs
from ._captions import caption
from ._glossary import info_html
from ._live import LiveView
from ._main_thread import kernel_loop
from ._markup import short_text
from ._progress_line import ProgressLine, duration
from ._protocol import ExplanationLike
from .component_browser import ComponentBrowser
from .patch_grid import PatchGridSelector
from .sparsity_curve import SparsityCurve
from .transferability import TransferabilityPairer


class Dashboard(widgets.VBox):
    """The ``explore()`` dashboard: pick patches (:class:`PatchGridSelector`), browse the
    components (:class:`ComponentBrowser`), their sparsity (:class:`SparsityCurve`) and their
    transferability to a second sample (:class:`TransferabilityPairer`).  "Explain selection"
    re-runs the pipeline on the patches selected; the seed box and ◀ ▶ show other images.

    One progress line (``line``) reports every view's solve, with one Cancel / Resume for all.
    Attributes: ``explainer`` (the one solving now), ``explanation`` (the current one),
    ``selector``, ``browser``, ``curve``, ``pairer``; ``stale`` (the selector's seed or patches
    differ from what the views show: they are then greyed with a badge until Explain),
    ``progress`` (solved, total), :meth:`estimate` (what a solve would cost, at the speed measured
    here).  Explain and "Re-solve independently" ask before more than ``confirm_above`` minimal
    features per image or an estimated two minutes; "Back to the nested result" returns to the
    nested solve (kept in memory).  :meth:`wait` blocks only outside JupyterLab / Notebook 7;
    :meth:`report` is a line that fills in with the health once everything is solved.
    """

    def __init__(self, explainer: Any, *, seed: int = 0, n: int = 4, seed_b: int | None = None,
                 patches: Sequence[int] | None = None, solve: bool = True, title: str = "",
                 confirm_above: int = 256) -> None:
        self.explainer = explainer
        self._solvers = {bool(explainer.config.nested): explainer}
        self.confirm_above = int(confirm_above)
        self.solve = bool(solve)
        self.selector = PatchGridSelector(explainer, seed, auto_n=n, display_size=256,
                                          title="1 · choose the patches N")
        if patches is None:
            self.selector.auto()
        else:
            self.selector.selected = list(patches)
        left = self._controls(explainer, seed)
        self.explanation: ExplanationLike = explainer.explain(self.selector.sample, patches=self.selector.selected)
        self.line = ProgressLine("260px")
        self.line.on_update = self._update_report
        self._report: list[widgets.HTML] = []
        self.browser = ComponentBrowser(self.explanation, solve=solve, line=self.line)
        self.curve = SparsityCurve(self.explanation, solve=solve, width=480, height=260, line=self.line)
        self.pairer = TransferabilityPairer(self.explanation, seed_b=int(seed_b if seed_b is not None else seed + 1),
                                            solve=solve, line=self.line)
        # image b follows image a (the next seed) unless the user picked it; a pick is kept while
        # it is not image a itself
        self._seed_b_pinned = seed_b is not None
        self._moving_seed_b = False
        self.pairer.observe(self._on_seed_b, names=["seed_b"])
        self._show_mode()
        top = widgets.HBox([left, self.browser], layout=widgets.Layout(align_items="flex-start"))
        bottom = widgets.HBox([self.curve, self.pairer],
                              layout=widgets.Layout(align_items="flex-start", flex_flow="row wrap"))
        super().__init__([_heading(title), self.line, top, bottom], layout=widgets.Layout())
        self.add_class("prsg-dashboard")
        self.selector.observe(lambda _c: self._update_stale(), names=["selected"])
        self._update_stale()

    def _controls(self, explainer: Any, seed: int) -> widgets.VBox:
        """The left column under the selector: seed and ◀ ▶, Explain with its estimate and
        confirm step, the model line, the solver mode and its switches.
        """
        self.seed_box = widgets.BoundedIntText(value=int(seed), min=0, max=2 ** 31 - 1, description="seed",
                                               layout=widgets.Layout(width="150px"))
        self.seed_box.add_class("prsg-seed")
        self.prev_button = _button("◀", "the previous image (explained at once)", "prsg-prev", "36px")
        self.next_button = _button("▶", "the next image (explained at once)", "prsg-next", "36px")
        self.prev_button.on_click(lambda _b: self.browse(-1))
        self.next_button.on_click(lambda _b: self.browse(+1))
        self.explain_button = _button("Explain selection", "solve the selected patches of this image",
                                      "prsg-explain", "170px", icon="play", style="primary")
        self.explain_button.on_click(lambda _b: self._on_explain_click())
        self.seed_box.observe(self._on_seed, names=["value"])
        self.estimate_note = widgets.HTML("")
        self.estimate_note.add_class("prsg-estimate")
        self.confirm_text = widgets.HTML("")
        self.confirm_button = _button("Solve anyway", "start this solve", "prsg-confirm", "130px", style="warning")
        self.confirm_button.on_click(lambda _b: self._on_confirm())
        self.confirm_cancel = _button("Not now", "do not solve", "prsg-confirm-cancel", "90px")
        self.confirm_cancel.on_click(lambda _b: self._hide_confirm())
        self.confirm_box = widgets.VBox([self.confirm_text, widgets.HBox([self.confirm_button, self.confirm_cancel])],
                                        layout=widgets.Layout(display="none"))
        self.confirm_box.add_class("prsg-confirm-box")
        self._pending: Callable[[], Any] | None = None
        self.timings: dict = {}
        gen = explainer.generator
        info = widgets.HTML(
            f"<div class='prsg-muted' style='font-size:12px;max-width:260px'>model <b>{gen.name}</b>, layer "
            f"<code>{gen.layer}</code> (d = {gen.d:,}), {explainer.grid.size}×{explainer.grid.size} grid, "
            f"ε = {explainer.epsilon:.1e} {info_html('epsilon')}</div>")
        self.mode = widgets.HTML("")
        self.mode.add_class("prsg-solver-mode")
        self.independent_button = _button("Re-solve independently", "solve every subset on its own (the reference; "
                                          "slower on a CPU); the nested result is kept", "prsg-independent", "210px",
                                          icon="refresh")
        self.independent_button.on_click(lambda _b: self.resolve_independently())
        self.independent_note = widgets.HTML("")
        self.independent_note.add_class("prsg-estimate-independent")
        self.nested_button = _button("Back to the nested result", "show the nested solve again (kept in memory)",
                                     "prsg-nested", "210px", icon="undo")
        self.nested_button.on_click(lambda _b: self.back_to_nested())
        seed_row = widgets.HBox([self.prev_button, self.seed_box, self.next_button],
                                layout=widgets.Layout(align_items="center"))
        return widgets.VBox([self.selector, seed_row, self.explain_button, self.estimate_note,
                             self.confirm_box, info, self.mode, self.independent_button, self.independent_note,
                             self.nested_button],
                            layout=widgets.Layout(width="290px", flex="none"))

    @property
    def views(self) -> tuple[LiveView, ...]:
        """The three views: component browser, sparsity curve, transferability pairer."""
        return (self.browser, self.curve, self.pairer)

    # ------------------------------------------------------------------ solver mode
    def _show_mode(self) -> None:
        nested = self.explainer.config.nested
        if nested:
            text = ("solver: <b>nested</b> " + info_html("nested") + " — the interactive mode: subsets solved by "
                    "increasing size, each bounded by its smaller subsets (several times fewer iterations). It also "
                    "makes random features look sparse, so the sparsity view shows no dense control: compare "
                    "sparsity after an independent solve.")
        else:
            text = "solver: <b>independent</b> — every subset solved on its own (the reference)."
        self.mode.value = f"<div style='font-size:12px;max-width:270px'>{text}</div>"
        self.independent_button.layout.display = self.independent_note.layout.display = None if nested else "none"
        self.nested_button.layout.display = None if not nested and True in self._solvers else "none"

    def _solver(self, nested: bool) -> Any:
        """The dashboard's explainer for the nested or the independent solve (made once, then kept:
        its solved explanations stay in memory, so switching back is instant).
        """
        if nested not in self._solvers:
            from ..backend import Explainer

            old = self.explainer
            # the twin is the same Settings with another solver: every other field (precision,
            # compile, channels_last …) carries over; field by field, three of them were dropped
            twin = old.settings.replace(model=old.generator, device=old.device,
                                        solver=self._solver_config(nested), overrides=())
            self._solvers[nested] = Explainer(settings=twin)
        return self._solvers[nested]

    def _solver_config(self, nested: bool) -> Any:
        """The solver settings of the dashboard's nested or independent explainer."""
        from ..core.solver import get_solver_config

        return get_solver_config(self.explainer.config, nested=nested)

    def resolve_independently(self, confirm: bool = False) -> Any:
        """Solve the current image and patches independently (the reference solve; the nested
        result is kept and :meth:`back_to_nested` shows it again).  Above ``confirm_above`` minimal
        features or an estimated two minutes it first shows the estimate and asks (returns
        ``None``) unless ``confirm``; otherwise returns the new explanation.
        """
        twin = self._solver(False)
        est = self.estimate(n=len(self.explanation.patches), explainer=twin)
        if not confirm and self._needs_confirm(est):
            self._ask(est, "re-solve independently", lambda: self.resolve_independently(confirm=True))
            return None
        self.explainer = twin
        self._show_mode()
        return self.explain(list(self.explanation.patches))

    def back_to_nested(self) -> Any:
        """Show the nested solve of the current image and patches again (kept in memory)."""
        self.explainer = self._solver(True)
        self._show_mode()
        return self.explain(list(self.explanation.patches))

    # ------------------------------------------------------------------ waiting, report
    def wait(self, timeout: float | None = None, block: bool | None = None) -> Dashboard | None:
        """Block until every queued solve of the views has finished, then refresh (scripts,
        tests, notebook runs without a front-end).

        ``block=None`` (default) does not block in a kernel driven by JupyterLab or Notebook 7:
        there the views fill in by themselves and a blocking cell would hold up "Run All" and
        freeze the views; it returns ``None`` at once.  ``block=True`` always blocks.
        """
        if block is None:
            block = not _interactive_frontend()
        if not block:
            done, total = self.progress
            print(f"d.wait(): not blocking in JupyterLab / Notebook 7 — the views fill in as results land "
                  f"({done}/{total} minimal features solved so far); d.report() fills in when all are solved.")
            return None
        for view in self.views:
            for fut in list(view.futures):
                fut.result(timeout=timeout)
        for view in self.views:
            view._refresher()  # under the view's lock: a worker-thread refresh may be running
        return self

    def report(self) -> Report:
        """A text block that fills in, by itself, once every view is solved: the health summary,
        the strongest components and the transferability ratio (it updates after each Explain).
        """
        box = Report("")
        box.add_class("prsg-report")
        self._report.append(box)
        self._update_report()
        return box

    def _update_report(self) -> None:
        if not self._report:
            return
        e = self.explanation
        refused = self.pairer.refusal
        if e.is_complete and (self.pairer.ratio is not None or refused):
            pair = (f"transferability: not computed ({refused})" if refused else
                    f"transferability |A_a ∩ A_b| / k_a = {self.pairer.ratio:.3f}")
            text = "\n".join([f"patches N: {e.patches} · solved: {e.progress[0]}/{e.progress[1]}",
                              e.health().summary(), f"strongest components: {e.components(top=3)}", pair])
        else:
            done, total = self.progress
            text = f"solving ({done}/{total} minimal features): the health appears here when every view is solved"
        for box in self._report:
            box.text = text
            box.value = f"<pre style='font-size:12px;white-space:pre-wrap'>{html.escape(text)}</pre>"

    def _repr_mimebundle_(self, **kwargs):
        return short_text(super()._repr_mimebundle_(**kwargs), f"explore() dashboard: {caption(self.explanation)} "
                                                               "(interactive in JupyterLab / Notebook 7)")

    @property
    def progress(self) -> tuple[int, int]:
        """``(solved, total)`` minimal features over every explanation the views show."""
        es = self.line.explanations()
        return sum(e.progress[0] for e in es), sum(e.progress[1] for e in es)

    # ------------------------------------------------------------------ stale, estimate, explain
    @property
    def stale(self) -> bool:
        """Whether the selector's seed or patches differ from the explanation the views show."""
        e = self.explanation
        shown = self.selector.sample
        return (sorted(self.selector.selected) != sorted(e.patches)
                or (shown.seed if shown is not None else None) != e.sample.seed)

    def _update_stale(self) -> None:
        stale = self.stale
        for view in self.views:
            if view.stale != stale:
                view.mark_stale(stale)
        self.explain_button.description = "Explain selection" + (" ⟳" if stale else "")
        self._update_estimate()

    def estimate(self, n: int | None = None, explainer: Any = None, nested: bool | None = None) -> dict:
        """What a solve of ``n`` patches (default: the selection) would cost with ``explainer``
        (default: the current one; ``nested=False`` / ``True``: the dashboard's independent / nested
        solver, made or not): ``minimal_features`` per image, ``total`` over the views (image a,
        image b, the dense control when it is solved), ``iterations`` expected (from the iterations
        its solved subsets took; half the iteration budget per subset before any) and ``seconds``:
        the whole solve replayed in the solver's order and batch at the step cost measured here
        (:func:`prsg_widgets.backend.progress.solve_estimate`, the live ETA's model; ``None``
        before any solve).
        """
        if explainer is None:
            explainer = self._solvers.get(self.explainer.config.nested if nested is None else bool(nested))
        is_nested = explainer.config.nested if explainer is not None else bool(nested)
        n = len(self.selector.selected) if n is None else int(n)
        images = 2 + int(self.curve.dense_control and not is_nested)
        mine = self.explanation.explainer is explainer and explainer is not None
        shown = [e for e in self.line.explanations() if e.explainer is explainer] if mine else []
        if mine and not self.stale and n == len(self.explanation.patches) and shown \
                and all(e.is_complete for e in shown):  # what the views show is solved: nothing to estimate
            return {"n": n, "minimal_features": 2 ** n, "total": 2 ** n * len(shown), "iterations": 0.0,
                    "seconds": 0.0, "kept": True}
        # the iterations of every image solved with it (images differ ≈ 2.5× at n = 12: one is a poor guide)
        pairs = [p for e in shown for p in solved_pairs(e)]
        # the step cost as measured on this explainer, else on the dashboard's other one
        meters = [ex.scheduler.meter for ex in (explainer, self.explainer) if ex is not None]
        meter = next((m for m in meters if m.step_cost() is not None), meters[-1])
        target = explainer
        if target is None:  # not made yet: its settings, and a meter of its own that has seen no batch
            old = self.explainer
            target = SimpleNamespace(config=self._solver_config(is_nested), batch_size=old.batch_size,
                                     device=old.device, scheduler=SimpleNamespace(meter=RateMeter()))
        its, seconds = solve_estimate(target, n, pairs, meter) if n else (0.0, 0.0)
        return {"n": n, "minimal_features": 2 ** n, "total": 2 ** n * images, "iterations": images * its,
                "seconds": None if seconds is None else images * seconds, "kept": False}

    @staticmethod
    def _when(est: dict) -> str:
        """The one text of an estimate's time, for the note under the grid and the confirm prompt
        alike (they showed ≈ 2 min and ≈ 4 min for one action).
        """
        if est.get("kept"):
            return "solved — kept in memory, nothing to solve"
        if est["seconds"] is None:
            return "time: measured after the first solve"
        return f"≈ {duration(est['seconds'])} at the speed measured here"

    def _update_estimate(self) -> None:
        if self.explainer.config.nested:
            est = self.estimate(n=len(self.explanation.patches), nested=False)
            when = self._when(est)
            self.independent_note.value = (f"<div class='prsg-estimate-line'>independent re-solve: {est['total']:,} "
                                           f"minimal features (with the dense control) · {when}; asks first above "
                                           f"{self.confirm_above:,} per image or two minutes</div>")
        self._show_estimate(self.estimate())

    def _show_estimate(self, est: dict) -> None:
        if est["n"] == 0:
            self.estimate_note.value = "<div class='prsg-estimate-line'>select at least one patch</div>"
            return
        when = self._when(est)
        self.estimate_note.value = (f"<div class='prsg-estimate-line'>{est['n']} patch{'es' if est['n'] > 1 else ''} → "
                                    f"2^{est['n']} = {est['minimal_features']:,} minimal features per image, "
                                    f"{est['total']:,} over the views · {when}</div>")

    def _needs_confirm(self, est: dict) -> bool:
        if est.get("kept"):  # nothing to solve
            return False
        return est["minimal_features"] > self.confirm_above or (est["seconds"] or 0) > 120

    def _ask(self, est: dict, what: str, action: Callable[[], Any]) -> None:
        when = f" ({self._when(est)})" if est["seconds"] is not None else ""
        if what == "explain":  # the note under the grid shows this same estimate, not an older one
            self._show_estimate(est)
        self.confirm_text.value = (f"<div class='prsg-confirm-text'>⚠ {what}: {est['total']:,} minimal features to "
                                   f"solve{when}. On a CPU this can take long; Cancel on the progress line stops "
                                   "it and keeps what is finished.</div>")
        self._pending = action
        self.confirm_box.layout.display = None

    def _on_explain_click(self) -> None:
        """The Explain button: no error into the kernel when nothing is selected, and a confirm
        step above ``confirm_above`` minimal features (or two minutes).
        """
        if not self.selector.selected:
            self.selector.message = "select at least one patch first (click the image or press auto)"
            return
        est = self.estimate()
        if self._needs_confirm(est):
            self._ask(est, "explain", self.explain)
            return
        self.explain()

    def _on_confirm(self) -> None:
        action, self._pending = self._pending, None
        self._hide_confirm()
        if action is not None:
            action()

    def _hide_confirm(self) -> None:
        self.confirm_box.layout.display = "none"

    def _on_seed(self, change) -> None:
        self.selector.set_sample(int(change["new"]))
        self.selector.auto()
        self._update_stale()

    def _first_result(self, explanation: ExplanationLike, rows: list) -> None:
        if explanation is self.explanation and any(rows) and "first_result" not in self.timings:
            self.timings["first_result"] = time.monotonic()

    def _on_seed_b(self, _change) -> None:
        if not self._moving_seed_b:
            self._seed_b_pinned = True

    def _seed_b_for(self, explanation: ExplanationLike) -> int:
        """Image b's seed beside ``explanation`` as image a: the next seed, or the user's pick of
        seed b while it differs from image a's (never image a itself).
        """
        seed_a = explanation.sample.seed
        b = int(self.pairer.seed_b)
        if seed_a is None:
            return b
        if not self._seed_b_pinned or b == int(seed_a):
            self._seed_b_pinned = False
            b = int(seed_a) + 1
        return b

    def browse(self, step: int) -> None:
        """Show the image ``step`` seeds away, with its foreground patches, and explain it."""
        self.seed_box.value = max(0, int(self.seed_box.value) + int(step))
        self._on_explain_click()

    def explain(self, patches: Sequence[int] | None = None) -> ExplanationLike:
        """Explain the selector's sample over ``patches`` (default: the selected ones) and show
        the new explanation in every view (their one ``show``, :mod:`~prsg_widgets.widgets._protocol`);
        returns it.
        """
        ids = list(patches) if patches is not None else list(self.selector.selected)
        if not ids:
            self.selector.message = "select at least one patch first"
            raise ValueError(self.selector.message)
        self._hide_confirm()
        if self.line.solving():  # the views leave what they showed: its queued solves must not go first
            for ex in self.line.explainers():
                ex.cancel()
        self.timings = {"explain": time.monotonic()}
        """Monotonic times of the last Explain and of its first solved minimal feature (kernel side)."""
        self.explanation = self.explainer.explain(self.selector.sample, patches=ids)
        self.explanation.on_update(self._first_result)
        self.browser.show(self.explanation)
        self.curve.show(self.explanation)
        self._moving_seed_b = True  # image b's seed moves with image a: not the user's pick
        try:
            self.pairer.show(self.explanation, seed_b=self._seed_b_for(self.explanation))
        finally:
            self._moving_seed_b = False
        self._update_stale()
        self._update_report()
        return self.explanation


class Report(widgets.HTML):
    """:meth:`Dashboard.report`'s block: HTML in the browser, its ``text`` where widgets do not
    render (a saved notebook on a code host).
    """

    text = ""

    def _repr_mimebundle_(self, **kwargs):
        return short_text(super()._repr_mimebundle_(**kwargs), self.text)


def _heading(title: str) -> widgets.HTML:
    """The dashboard's title, what it shows in a line of words, and its colours."""
    colours = " · ".join(f"<span style='white-space:nowrap'><span style='color:{c}'>■</span> {t}</span>" for c, t in (
        ("#1c7ed6", "chosen patches N"), ("#d6336c", "action field A(S)"), ("#0c8599", "patch filter"),
        ("#e8590c", "target T"), ("#2f9e44", "found in both images")))
    return widgets.HTML(
        f"<h3 style='margin:4px 0'>{title or 'Primitive representation structures'}</h3>"
        "<div class='prsg-muted' style='font-size:12px'>Feature components I(S) " + info_html("feature component")
        + " = OR Harsanyi interactions " + info_html("OR interaction") + " of the minimal features f_T "
        + info_html("minimal feature") + "; solves run in the background and the views fill in. Colours: "
        + colours + "</div>")


def _button(text: str, tip: str, cls: str, width: str, icon: str = "", style: str = "") -> widgets.Button:
    b = widgets.Button(description=text, tooltip=tip, icon=icon, button_style=style, layout=widgets.Layout(width=width))
    b.add_class(cls)
    return b


def _interactive_frontend() -> bool:
    """Whether the running cell was sent by JupyterLab or Notebook 7 (their execute requests
    carry ``recordTiming`` / ``deletedCells`` metadata; nbclient, nbval, papermill and Voila
    send neither) — there the views update live and blocking would only freeze them.
    """
    if kernel_loop() is None:
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
            solver: str | None = None, cheap: bool = True, seed_b: int | None = None,
            patches: Sequence[int] | None = None, explainer: Any = None, solve: bool = True,
            confirm_above: int = 256, **explainer_kwargs) -> Dashboard:
    """One call to explore a built-in model (the natural first cell of a notebook).

    Builds an :class:`~prsg_widgets.Explainer` (``model`` a built-in name or a
    :class:`~prsg_widgets.SplitGenerator`; ``grid``, ``solver`` preset, ``cheap`` layer and any
    other ``Explainer`` keyword), picks the ``n`` foreground patches of ``sample(seed)`` (or
    ``patches``) and returns the :class:`Dashboard`, whose solves run in the background.
    Pass ``explainer=`` to reuse one.  ``solver=None`` is the default preset, ``"interactive"``
    (nested: components that do not cancel), on any device; the dashboard labels the mode and
    offers a one-click independent re-solve (``"fast"``, the paper's baseline for sparsity).
    Above ``confirm_above`` minimal features per image the Explain button shows the estimate and
    asks before solving.
    """
    if explainer is None:
        from ..backend import Explainer

        explainer_kwargs.setdefault("progress", False)  # the widgets show progress
        explainer = Explainer(model, grid=grid, solver=solver, cheap=cheap, **explainer_kwargs)
    return Dashboard(explainer, seed=seed, n=n, seed_b=seed_b, patches=patches, solve=solve,
                     confirm_above=confirm_above)
