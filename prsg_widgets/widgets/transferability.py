"""TransferabilityPairer: Sec. 3.4 / Fig. 8 — do the strongest action fields of one image recur
in another image of the same model, at the same patch positions?
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import traitlets

from .. import metrics
from ._captions import caption
from ._grid_view import GridView
from ._images import rgba_bytes
from ._live import LiveView
from ._protocol import ExplanationLike, Shown, as_explanation, as_list, explainer_of
from ._view_modules import ViewModule

if TYPE_CHECKING:  # pragma: no cover
    from ..backend.explainer import Explainer


def default_ks(components: int) -> tuple[int, int]:
    """The paper's ``k_a = 20``, ``k_b = 100`` (of 511 components, n = 9), or, with fewer
    components, the same idea at a smaller scale: a third and two thirds of them (with all of
    them the ratio is trivially 1).
    """
    if components >= 300:
        return 20, 100
    return max(1, components // 3), max(1, (2 * components) // 3)


class PairView(GridView):
    """The two-image view of :class:`TransferabilityPairer`: each image with the patches ``N``,
    its top-k action fields as chips (matched ones highlighted in both), and the ratio.
    Hovering a chip outlines its action field on the images.
    """

    _esm = ViewModule("transferability.js")

    image_a = traitlets.Bytes(b"").tag(sync=True)
    image_b = traitlets.Bytes(b"").tag(sync=True)
    label_a = traitlets.Unicode("").tag(sync=True)
    label_b = traitlets.Unicode("").tag(sync=True)
    patches = traitlets.List(traitlets.Int()).tag(sync=True)
    top_a = traitlets.List(traitlets.List(traitlets.Int())).tag(sync=True)
    top_b = traitlets.List(traitlets.List(traitlets.Int())).tag(sync=True)
    matched = traitlets.List(traitlets.List(traitlets.Int())).tag(sync=True)
    ratio = traitlets.Float(-1.0).tag(sync=True)
    """``|A_a ∩ A_b| / k_a``; ``-1`` while not computed."""
    chance = traitlets.Float(-1.0).tag(sync=True)
    k_a = traitlets.Int(0).tag(sync=True)
    k_b = traitlets.Int(0).tag(sync=True)
    components = traitlets.Int(0).tag(sync=True)
    """``2^n − 1``: how many action fields there are to choose from."""
    status = traitlets.Unicode("").tag(sync=True)
    refusal = traitlets.Unicode("").tag(sync=True)
    """Why no pair is compared (image b is image a), shown instead of the ratio; empty otherwise."""


class TransferabilityPairer(LiveView, widgets.VBox):
    """Two samples of the same model explained over the same patch positions ``N``, side by side.

    Shows the action fields of the top-``k_a`` components of image a and the top-``k_b`` of image b
    (by ``‖I(S)‖₂``), highlights those found in both, and the ratio ``|A_a ∩ A_b| / k_a``
    (:func:`prsg_widgets.metrics.transferability`; paper: k_a = 20, k_b = 100 of 511, the default
    from 300 components on; fewer components default to a third and two thirds, see
    :func:`default_ks`).  Sliders set ``k_a`` and ``k_b`` (cut to ``2^n − 1``); a seed box picks
    the second sample.  A second sample that is image a itself (``seed_b`` equal to image a's seed)
    is refused with a note (``refusal``): an image compared with itself always scores 100%.

    ``source`` is an :class:`~prsg_widgets.Explainer` (then image a is ``sample(seed_a)`` over
    ``patches``, default its ``n`` foreground patches) or an existing
    :class:`~prsg_widgets.Explanation` (used as image a; no second solve of it).

    Python-side state: ``seed_b``, ``k_a``, ``k_b`` (read, set, observe), ``result``
    (:class:`~prsg_widgets.metrics.TransferResult` or ``None`` while solving), ``ratio``,
    ``refusal`` (why no pair is compared, ``""`` when one is).
    """

    export_name = "transferability"
    export_views = {"view": "transferability"}
    seed_b = traitlets.Int(1)
    k_a = traitlets.Int(20)
    k_b = traitlets.Int(100)
    ratio = traitlets.Float(None, allow_none=True)

    def __init__(self, source: Explainer | ExplanationLike, *, seed_a: int = 0, seed_b: int = 1,
                 patches: Sequence[int] | None = None, n: int = 4, k_a: int | None = None,
                 k_b: int | None = None, solve: bool = True, line: Any = None) -> None:
        self.view = PairView()
        self.seed_box = widgets.BoundedIntText(value=int(seed_b), min=0, max=2 ** 31 - 1,
                                               description="seed b", layout=widgets.Layout(width="170px"))
        self.seed_box.add_class("prsg-seed-b")
        self.ka_slider = widgets.IntSlider(value=1, min=1, max=1, description="k_a",
                                           layout=widgets.Layout(width="260px"))
        self.kb_slider = widgets.IntSlider(value=1, min=1, max=1, description="k_b",
                                           layout=widgets.Layout(width="260px"))
        header = self._init_live("Transferability", "240px", term="transferability")
        controls = widgets.HBox([self.seed_box, self.ka_slider, self.kb_slider],
                                layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([header, controls, self.view])
        self.add_class("prsg-transferability")
        self.solve = bool(solve)
        self.result: metrics.TransferResult | None = None
        self.explanation_b: ExplanationLike | None = None  # image b, once the pair is loaded
        if line is not None:
            self.use_line(line)

        from ..backend.explainer import Explainer

        self.explanation_a: ExplanationLike
        if isinstance(source, Explainer):
            self.explainer = source
            self.explanation_a = source.explain(int(seed_a),
                                                patches=list(patches) if patches is not None else "foreground",
                                                n=None if patches is not None else int(n))
        else:
            self.explanation_a = source
            self.explainer = explainer_of(source)
            if patches is not None and sorted(patches) != sorted(source.patches):
                raise ValueError(f"patches {list(patches)} differ from the explanation's {source.patches}")
        default_a, default_b = default_ks(self.explanation_a.num_subsets - 1)
        self._set_k_range((int(k_a if k_a is not None else default_a), int(k_b if k_b is not None else default_b)))
        # link(source, target) copies the source's value first: the controls hold the start values
        traitlets.link((self.seed_box, "value"), (self, "seed_b"))
        traitlets.link((self.ka_slider, "value"), (self, "k_a"))
        traitlets.link((self.kb_slider, "value"), (self, "k_b"))
        self.observe(lambda _c: self._load_b(), names=["seed_b"])
        self.observe(lambda _c: self._update_result(), names=["k_a", "k_b"])
        self._show_a()
        self._load_b()

    # ------------------------------------------------------------------ state
    @property
    def patches(self) -> list[int]:
        """The patch positions ``N`` shared by both explanations."""
        return list(self.explanation_a.patches)

    def _set_k_range(self, values: tuple[int, int] | None = None) -> None:
        """Slider range ``1..2^n − 1`` and values in one message per slider, so the handle is
        drawn where the value is (a separate max update left it at the old position).
        """
        top = self.explanation_a.num_subsets - 1
        values = values or (self.ka_slider.value, self.kb_slider.value)
        for s, v in zip((self.ka_slider, self.kb_slider), values, strict=True):
            with s.hold_sync():
                s.min, s.max = 1, top
                s.value = max(1, min(int(v), top))

    @traitlets.validate("k_a", "k_b")
    def _validate_k(self, proposal) -> int:
        value = int(proposal["value"])
        if value < 1:
            raise traitlets.TraitError(f"{proposal['trait'].name} must be at least 1, got {value}")
        e: ExplanationLike | None = self.__dict__.get("explanation_a")  # None while __init__ sets the sliders
        if e is not None and value > e.num_subsets - 1:
            value = e.num_subsets - 1  # as metrics.transferability does: cut to 2^n − 1
        return value

    @traitlets.validate("seed_b")
    def _validate_seed(self, proposal) -> int:
        value = int(proposal["value"])
        if value < 0:
            raise traitlets.TraitError(f"seed_b must be non-negative, got {value}")
        return value

    @property
    def refusal(self) -> str:
        """Why no pair is compared (image b is image a), ``""`` when a pair is."""
        a = self.explanation_a
        seed = a.sample.seed
        if seed is None or int(seed) != int(self.seed_b):
            return ""
        return (f"seed b = {self.seed_b} is image a itself: an image compared with itself always scores 100% "
                "and says nothing about transferability — choose another seed b")

    def show(self, explanations: Shown, *, seed_b: int | None = None) -> None:
        """Use another explanation as image a (the view protocol,
        :mod:`~prsg_widgets.widgets._protocol`: exactly one; its patches become ``N`` for image b
        too) and, when given, ``seed_b`` as image b (else image b keeps its seed).
        """
        (explanation,) = as_list(explanations, "TransferabilityPairer", most=1)
        self._unwatch()
        self.result, self.ratio = None, None
        with self.view.hold_sync():  # never show the old ratio beside the new image
            self.view.top_a, self.view.top_b, self.view.matched = [], [], []
            self.view.ratio = -1.0
            self.view.status = "loading image b…"
        self.status.value = ""
        self.explanation_a = explanation
        self.explainer = explainer_of(explanation)
        self._set_k_range((self.k_a, self.k_b))
        self._show_a()
        if seed_b is not None and int(seed_b) != self.seed_b:
            self.seed_b = int(seed_b)  # its observer loads image b
        else:
            self._load_b()

    def _show_a(self) -> None:
        e = self.explanation_a
        data, w, h = rgba_bytes(e.image, e.value_range)
        with self.view.hold_sync():
            self.view.set_grid(e.grid, w, h)
            self.view.patches = list(e.patches)
            self.view.image_a = data
            self.view.label_a = e.sample.label or "image a"
            self.view.components = e.num_subsets - 1

    def _load_b(self) -> None:
        ex = self.explainer
        self._unwatch()
        self.result, self.ratio = None, None
        refusal = self.refusal
        # image a against itself: nothing to compare, so image b is neither solved nor counted
        self.explanation_b = None if refusal else ex.explain(int(self.seed_b), patches=list(self.explanation_a.patches))
        data = rgba_bytes(self.explanation_b.image, self.explanation_b.value_range)[0] if self.explanation_b else b""
        with self.view.hold_sync():
            self.view.image_b = data
            self.view.label_b = (self.explanation_b.sample.label if self.explanation_b else "") or f"seed {self.seed_b}"
            self.view.top_a, self.view.top_b, self.view.matched = [], [], []
            self.view.ratio = -1.0
            self.view.refusal = refusal
        shown = [self.explanation_a] + ([self.explanation_b] if self.explanation_b else [])
        self._watch(shown)
        self.view.caption = " | ".join(caption(e) for e in shown)
        self.refresh()

    # ------------------------------------------------------------------ refresh
    def _refresh(self) -> None:
        """Update progress, and the result once both explanations are solved."""
        a, b = self.explanation_a, self.explanation_b
        ok = self._show_progress()
        if b is None:
            self.view.status = self.refusal
            return
        done = a.progress[0] + b.progress[0]
        total = a.num_subsets + b.num_subsets
        if not ok:
            self.view.status = self._state_text(done, total, "both images")
            return
        if a.is_complete and b.is_complete:
            if self.result is None:
                self._update_result()
        else:
            self.view.status = f"solving both images ({done}/{total} minimal features)"

    def _complete_text(self) -> str:
        return "both images solved"

    def _figure(self):
        """Fig. 8 for this pair."""
        from ..figures import transferability_figure

        b = self.explanation_b
        if self.result is None or b is None:
            raise ValueError("no result yet: wait for both solves")
        label = f"{self.explanation_a.sample.label or 'a'} → {b.sample.label or 'b'}"
        return transferability_figure([self.result], [label])

    def _update_result(self) -> None:
        a, b = self.explanation_a, self.explanation_b
        if b is None or not (a.is_complete and b.is_complete):
            return
        res = metrics.transferability(as_explanation(a), as_explanation(b), k_a=int(self.k_a), k_b=int(self.k_b))
        self.result = res
        with self.view.hold_sync():
            self.view.top_a = [sorted(s) for s in res.top_a]
            self.view.top_b = [sorted(s) for s in res.top_b]
            self.view.matched = [sorted(s) for s in res.matched]
            self.view.k_a, self.view.k_b = res.k_a, res.k_b
            self.view.chance = float(res.chance)
            self.view.ratio = float(res.ratio)
            self.view.status = ""
        self.ratio = float(res.ratio)
