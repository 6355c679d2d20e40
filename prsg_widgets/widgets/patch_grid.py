"""PatchGridSelector: pick the patches ``N`` on a generated image (``docs/theory.md`` §1, "grid")."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import traitlets

from ..core.grid import DEFAULT_MAX_PATCHES, PatchGrid, select_patches
from ._export import export_stem
from ._grid_view import GridView
from ._images import ArrayLike, rgba_bytes
from ._view_modules import ViewModule

if TYPE_CHECKING:  # pragma: no cover
    from ..backend.sample import Sample


class PatchGridSelector(GridView):
    """The generated image with its P×P grid drawn over it; click or drag to toggle patches.

    ``selected`` is a synced, sorted list of patch ids (``row * P + col``) that Python can read,
    set and ``observe``.  At most ``max_patches`` can be selected (the solver needs ``2^n``
    minimal features): the view refuses more and shows why in ``message``; setting more from
    Python raises ``traitlets.TraitError``.  The "auto" button picks the ``auto_n`` foreground
    patches (where the image differs most from the baseline image ``g(b)``, or an object mask).

    Give either an ``explainer`` (plus ``sample``: a :class:`~prsg_widgets.Sample` or a seed) or a
    raw ``image`` (``(C, H, W)`` tensor or ``(H, W, C)`` array in ``value_range``) and ``grid``.
    """

    _esm = ViewModule("patch_grid.js")

    image = traitlets.Bytes(b"").tag(sync=True)
    """Raw RGBA ``uint8`` bytes of the displayed image (``width * height * 4``)."""
    selected = traitlets.List(traitlets.Int()).tag(sync=True)
    max_patches = traitlets.Int(DEFAULT_MAX_PATCHES).tag(sync=True)
    allowed = traitlets.List(traitlets.Int(), allow_none=True, default_value=None).tag(sync=True)
    """Patch ids that may be toggled (``None``: all)."""
    auto_n = traitlets.Int(4).tag(sync=True)
    show_auto = traitlets.Bool(True).tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    """The last refusal or notice shown under the image ("" when none)."""
    title = traitlets.Unicode("").tag(sync=True)
    display_size = traitlets.Int(256).tag(sync=True)
    """Largest width of the drawn image in CSS pixels: the view shrinks it to fit a narrower
    container (the image is scaled without smoothing, at the screen's devicePixelRatio)."""

    def __init__(
        self,
        explainer: Any = None,
        sample: Any | int | None = None,
        *,
        image: ArrayLike | None = None,
        grid: int | PatchGrid | None = None,
        selected: Sequence[int] = (),
        max_patches: int | None = None,
        auto_n: int = 4,
        allowed: Sequence[int] | None = None,
        value_range: Sequence[float] | None = None,
        reference: ArrayLike | None = None,
        title: str = "",
        display_size: int = 256,
        show_auto: bool = True,
    ) -> None:
        self.explainer = explainer
        self.sample: Sample | None = None  # the sample shown (with an explainer)
        self._grid: PatchGrid | None = None
        super().__init__(auto_n=int(auto_n), title=title, display_size=int(display_size), show_auto=show_auto)
        self._value_range = tuple(value_range) if value_range is not None else _value_range(explainer)
        self._reference = reference
        if explainer is not None:
            self._grid = explainer.grid
            if max_patches is None:
                max_patches = explainer.max_patches
        elif isinstance(grid, PatchGrid):
            self._grid = grid
        elif image is None:
            raise ValueError("PatchGridSelector needs an explainer (and a sample or seed) or an image")
        else:
            self._grid = None  # built from the image size below
        self.max_patches = int(max_patches if max_patches is not None else DEFAULT_MAX_PATCHES)
        if image is not None:
            self.set_image(image, grid=grid)
        else:
            self.set_sample(sample if sample is not None else 0, select=())
        if allowed is not None:
            self.allowed = [int(p) for p in allowed]
        self.selected = [int(p) for p in selected]
        self.on_msg(self._on_custom_msg)

    # ------------------------------------------------------------------ state
    @property
    def grid(self) -> PatchGrid:
        """The :class:`~prsg_widgets.PatchGrid` the ids refer to."""
        if self._grid is None:  # pragma: no cover - __init__ always sets one
            raise ValueError("the selector has no grid yet")
        return self._grid

    def set_sample(self, sample: Any | int, select: Sequence[int] | None = None) -> None:
        """Show another sample of the explainer (a :class:`~prsg_widgets.Sample` or a seed).

        ``select`` replaces the selection (default: keep it).
        """
        if self.explainer is None:
            raise ValueError("set_sample needs the selector to be built with an explainer")
        if isinstance(sample, (int,)) or hasattr(sample, "__index__"):
            sample = self.explainer.sample(int(sample))
        self.sample = sample
        self._reference = self.explainer.baseline_image
        self._show(sample.image, self.explainer.grid)
        if select is not None:
            self.selected = [int(p) for p in select]

    def set_image(self, image: ArrayLike, grid: int | PatchGrid | None = None) -> None:
        """Show a raw image (``(C, H, W)`` tensor or ``(H, W, C)`` array) with a grid."""
        data, w, h = rgba_bytes(image, self._value_range)
        if isinstance(grid, PatchGrid):
            g = grid
        else:
            size = int(grid) if grid is not None else (self._grid.size if self._grid is not None else 6)
            g = PatchGrid(h, w, size)
        if (g.height, g.width) != (h, w):
            raise ValueError(f"the grid is for {g.height}×{g.width} images, the image is {h}×{w}")
        self._image_array = image
        self._show_bytes(data, w, h, g)

    def _show(self, image: ArrayLike, grid: PatchGrid) -> None:
        data, w, h = rgba_bytes(image, self._value_range)
        self._image_array = image
        self._show_bytes(data, w, h, grid)

    def _show_bytes(self, data: bytes, w: int, h: int, grid: PatchGrid) -> None:
        self._grid = grid
        with self.hold_sync():
            self.set_grid(grid, w, h)
            self.image = data
        # drop ids the new grid does not have
        self.selected = [p for p in self.selected if p < grid.num_patches]
        self._name_export()

    @traitlets.observe("selected")
    def _name_export(self, _change: Any = None) -> None:
        """The PNG export's name: the model, the seed shown and the selected patches."""
        model = self.explainer.generator.name if self.explainer is not None else None
        seed = self.sample.seed if self.sample is not None else None
        self.export_stem = export_stem("patches", model, [(seed, self.selected)])

    @traitlets.validate("selected")
    def _validate_selected(self, proposal) -> list[int]:
        ids = sorted({int(p) for p in proposal["value"]})
        grid = self._grid
        if grid is not None:
            bad = [p for p in ids if not 0 <= p < grid.num_patches]
            if bad:
                raise traitlets.TraitError(
                    f"patch ids {bad} are out of range: a {grid.size}×{grid.size} grid has ids "
                    f"0..{grid.num_patches - 1} (id = row*{grid.size} + col)")
        if self.allowed is not None:
            outside = [p for p in ids if p not in set(self.allowed)]
            if outside:
                raise traitlets.TraitError(f"patches {outside} cannot be selected here; allowed: {self.allowed}")
        if len(ids) > self.max_patches:
            raise traitlets.TraitError(
                f"{len(ids)} patches selected; the limit is {self.max_patches} "
                f"(the solver needs 2^n minimal features: 2^{len(ids)} = {2 ** len(ids):,})")
        return ids

    @traitlets.validate("max_patches")
    def _validate_max(self, proposal) -> int:
        value = int(proposal["value"])
        if value < 1:
            raise traitlets.TraitError("max_patches must be at least 1")
        if len(self.selected) > value:
            raise traitlets.TraitError(
                f"{len(self.selected)} patches are selected, more than the new limit {value}")
        return value

    # ------------------------------------------------------------------ actions
    def auto(self, n: int | None = None) -> list[int]:
        """Select the ``n`` (default ``auto_n``) foreground patches and return them.

        Uses the engine's :func:`~prsg_widgets.core.grid.select_patches` ("foreground": where the
        image differs most from the baseline image ``g(b)``; ties broken by a seeded shuffle).
        """
        n = int(self.auto_n if n is None else n)
        if n > self.max_patches:
            self.message = f"auto: {n} patches exceed the limit of {self.max_patches}"
            raise ValueError(self.message)
        if self._reference is None:
            self.message = ("auto needs a reference image (the baseline image g(b)): "
                            "build the selector with an explainer")
            raise ValueError(self.message)
        import torch

        img = self._image_array
        ref = self._reference
        img_t = img if isinstance(img, torch.Tensor) else torch.as_tensor(img)
        ref_t = ref if isinstance(ref, torch.Tensor) else torch.as_tensor(ref)
        ids = select_patches(self.grid, n, "foreground", image=img_t.detach().cpu(),
                             reference=ref_t.detach().cpu(), max_patches=self.max_patches)
        if self.allowed is not None:
            ids = [p for p in ids if p in set(self.allowed)]
        self.selected = ids
        self.message = f"auto: picked the {len(ids)} foreground patches"
        return ids

    def clear(self) -> None:
        """Deselect every patch."""
        self.selected = []
        self.message = ""

    def _on_custom_msg(self, _widget, content, _buffers) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "auto":
            try:
                self.auto()
            except ValueError:
                pass  # the message trait already tells the user
        elif kind == "clear":
            self.clear()


def _value_range(explainer: Any) -> tuple[float, float]:
    """The generator's output range (DCGAN: ``(-1, 1)``) for turning images into bytes; ``(-1, 1)``
    without an explainer.
    """
    if explainer is None:
        return (-1.0, 1.0)
    lo, hi = explainer.generator.value_range
    return (float(lo), float(hi))
