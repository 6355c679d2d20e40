"""The one view protocol: every view of explanations takes them through ``show``.

``view.show(explanations)`` — one :class:`ExplanationLike` or a sequence of them, in the order the
view draws them — makes the view show those explanations instead of what it showed (and queues
their solves when the view's ``solve`` is set).  A view says how many it takes and raises a
``ValueError`` naming the view for any other count:

* :class:`~prsg_widgets.widgets.ComponentBrowser` — exactly one;
* :class:`~prsg_widgets.widgets.SparsityCurve` — one or more (``labels=`` names the curves);
* :class:`~prsg_widgets.widgets.TransferabilityPairer` — exactly one, image a (``seed_b=``
  picks image b, which the pairer explains itself over the same patches).

Options a view has beyond the explanations are keyword-only.  ``Dashboard.explain`` feeds its
three views through ``show``; :class:`ExplanationView` is the protocol, and :func:`as_list` the
one place the "one or a sequence" argument is read.

:class:`ExplanationLike` is what the views read of an explanation;
:class:`~prsg_widgets.Explanation` is its implementation.  A view hands an explanation on to
:mod:`prsg_widgets.metrics` and :mod:`prsg_widgets.figures`, which take the concrete class, through
:func:`as_explanation`, and explains another sample with the :class:`~prsg_widgets.Explainer`
behind it (:func:`explainer_of`).
"""
from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Union

if TYPE_CHECKING:  # pragma: no cover
    from torch import Tensor

    from ..backend.explainer import Explainer
    from ..backend.explanation import ExplainerLike, Explanation
    from ..backend.explanation_meta import ExplanationMeta
    from ..backend.sample import Component, RankingEntry, Sample
    from ..backend.subset_args import SubsetLike
    from ..core.grid import PatchGrid
    from ..core.health import Health

__all__ = ["ExplanationLike", "ExplanationView", "Shown", "as_explanation", "as_list", "explainer_of"]


class ExplanationLike(Protocol):
    """What the views read of an explanation (:class:`~prsg_widgets.Explanation` has it all):
    its identity (sample, patches, grid, metadata, the explainer it is bound to), its solve state,
    and its components, images and health.
    """

    sample: Sample
    meta: ExplanationMeta
    explainer: ExplainerLike | None
    """The explainer it is bound to (``None``: loaded without one)."""
    key: str | None
    grid: PatchGrid

    @property
    def image(self) -> Tensor: ...
    @property
    def value_range(self) -> tuple[float, float]: ...
    @property
    def patches(self) -> list[int]: ...
    @property
    def n(self) -> int: ...
    @property
    def num_subsets(self) -> int: ...
    @property
    def full(self) -> int: ...
    @property
    def progress(self) -> tuple[int, int]: ...
    @property
    def is_complete(self) -> bool: ...

    def require_explainer(self) -> ExplainerLike: ...
    def subset_patches(self, T: SubsetLike) -> list[int]: ...
    def solved_subsets(self) -> list[int]: ...
    def ranking(self, order: int | None = None, covering: Iterable[int] | None = None) -> list[RankingEntry]: ...
    def components(self, top: int | None = None, order: int | None = None,
                   covering: Iterable[int] | None = None, ready_only: bool = False) -> list[Component]: ...
    def minimal_feature(self, T: SubsetLike) -> Tensor: ...
    def component(self, S: SubsetLike) -> Tensor: ...
    def reconstruct(self, keep: Iterable[Any] | None = None) -> Tensor: ...
    def regional_patterns(self, subsets: Sequence[SubsetLike]) -> Tensor: ...
    def render(self, features: Tensor) -> Tensor: ...
    def health(self, k: int | None = None) -> Health: ...
    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> Path: ...
    def submit(self, subsets: Iterable[SubsetLike] | None = None,
               on_progress: Callable[[int, int], None] | None = None) -> cf.Future: ...
    def on_update(self, callback: Callable[[Any, list[int]], None]) -> None: ...
    def remove_listener(self, callback: Callable[[Any, list[int]], None]) -> None: ...


Shown = Union["ExplanationLike", Sequence["ExplanationLike"]]
"""What ``show`` takes: one explanation or a sequence of them."""


class ExplanationView(Protocol):
    """A view of explanations (see the module doc)."""

    def show(self, explanations: Shown) -> None:
        """Show ``explanations`` instead of what the view showed."""


def as_list(explanations: Shown, view: str, most: int | None = None) -> list[ExplanationLike]:
    """``show``'s argument as a list: one explanation or a sequence; ``view`` (its name) takes at
    least one and at most ``most`` (a clear error otherwise).
    """
    many = list(explanations) if isinstance(explanations, (list, tuple)) else [explanations]
    if not many:
        raise ValueError(f"{view}.show needs at least one explanation")
    if most is not None and len(many) > most:
        raise ValueError(f"{view}.show takes {'one explanation' if most == 1 else f'at most {most}'}, "
                         f"got {len(many)}")
    return many  # type: ignore[return-value]  # a list or tuple of explanations: the isinstance above


def as_explanation(explanation: ExplanationLike) -> Explanation:
    """``explanation`` for :mod:`prsg_widgets.metrics` and :mod:`prsg_widgets.figures`, which take
    the concrete :class:`~prsg_widgets.Explanation` (a clear error for anything else).
    """
    from ..backend.explanation import Explanation

    if not isinstance(explanation, Explanation):
        raise TypeError(f"the views compute on a prsg_widgets Explanation, got {type(explanation).__name__}")
    return explanation


def explainer_of(explanation: ExplanationLike) -> Explainer:
    """The :class:`~prsg_widgets.Explainer` an explanation is bound to: what a view explains
    another sample or the dense control with (error when it was loaded without one).
    """
    from ..backend.explainer import Explainer

    ex = explanation.require_explainer()
    if not isinstance(ex, Explainer):
        raise TypeError(f"the views explain with a prsg_widgets Explainer, got {type(ex).__name__}")
    return ex


def bound_explainer(explanation: ExplanationLike) -> Explainer | None:
    """:func:`explainer_of`, or ``None`` for an explanation loaded without an explainer."""
    return None if explanation.explainer is None else explainer_of(explanation)


if TYPE_CHECKING:  # pragma: no cover
    def _explanation_is_explanation_like(explanation: Explanation) -> ExplanationLike:
        return explanation  # mypy holds the class to the protocol: a changed Explanation fails here
