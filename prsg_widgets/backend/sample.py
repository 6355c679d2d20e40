"""The small value types of the backend: a generated :class:`Sample`, a :class:`Component` and a
:class:`RankingEntry`.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import NamedTuple

from torch import Tensor


@dataclass
class Sample:
    """One generated image: its ``code``, ``image`` ``(C, H, W)`` and flattened ``feature`` ``(d,)``."""

    seed: int | None
    code: Tensor
    image: Tensor
    feature: Tensor
    object_masks: Tensor | None = None
    label: str = ""

    def key(self) -> str:
        """Hash of the code and the feature (part of every cache key)."""
        h = hashlib.sha256(self.code.detach().cpu().numpy().tobytes())
        h.update(self.feature.detach().cpu().numpy().tobytes())
        return h.hexdigest()[:16]


@dataclass(frozen=True)
class Component:
    """A feature component ``I(S)`` (Eq. 6) with its action field ``A(S)`` = the patches of ``S``."""

    subset: int
    patches: tuple[int, ...]
    vector: Tensor
    norm: float

    @property
    def order(self) -> int:
        """The interaction order ``|S|``."""
        return len(self.patches)

    def __repr__(self) -> str:  # readable in a notebook: no raw tensor
        return (f"Component(S={{{', '.join(map(str, self.patches))}}}, order={self.order}, "
                f"norm={self.norm:.4g}, d={self.vector.numel()})")


class RankingEntry(NamedTuple):
    """One line of :meth:`Explanation.ranking`: a component's subset ``S`` (bitmask) and
    ``‖I(S)‖₂`` (``None`` while it cannot be computed from what is solved).  A tuple, so
    ``for s, norm in e.ranking()`` works; :meth:`Explanation.reconstruct` takes it as ``S``.
    """

    subset: int
    norm: float | None
