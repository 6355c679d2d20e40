"""The P×P patch grid, pixel masks of patch sets, and the choice of the ``n`` patches ``N``.

Patch ids are ``row * P + col``.  When ``P`` does not divide the image size, patch borders are at
``round(i * H / P)`` (``docs/theory.md`` §1), so patches differ by at most one pixel.

Ids are checked, never coerced: only true integers (Python ``int``, numpy integers, 0-d integer
tensors) in ``0..P²−1``; bools, floats (``5.0`` too), strings (``"56"`` is not ``[5, 6]``) and
negative ids (``-1`` is not "the last patch") are a ``ValueError``; a list of ids must be distinct.
Subset bitmasks are true integers in ``0..2^n−1``.  See :mod:`prsg_widgets.core.validate`.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ..defaults import DEFAULT_MAX_PATCHES
from .errors import PatchError
from .validate import (
    check_finite,
    check_mask,
    check_patch_ids,
    check_positive_int,
    check_seed,
    check_subset_bitmask,
    check_subset_ids,
    is_integer,
    short_repr,
)


class TooManyPatchesError(PatchError):
    """More patches than the limit: the solver needs ``2^n`` minimal features (a
    :class:`~prsg_widgets.core.errors.PatchError`, so a ``ValueError``).
    """


@dataclass(frozen=True)
class PatchGrid:
    """A ``size × size`` grid over an ``height × width`` image."""

    height: int
    width: int
    size: int = 6

    def __post_init__(self) -> None:
        check_positive_int(self.height, "the image height")
        check_positive_int(self.width, "the image width")
        if not is_integer(self.size):
            raise ValueError(f"grid size must be an integer between 1 and {min(self.height, self.width)}, "
                             f"got {short_repr(self.size)}")
        if self.size < 1 or self.size > min(self.height, self.width):
            raise ValueError(
                f"grid size must be between 1 and {min(self.height, self.width)} for a "
                f"{self.height}×{self.width} image, got {short_repr(self.size)}"
            )

    @property
    def num_patches(self) -> int:
        """``P²``, the number of patches."""
        return self.size * self.size

    def row_edges(self) -> list[int]:
        """The ``P + 1`` pixel rows where the patch rows start (and the last one ends)."""
        return [round(i * self.height / self.size) for i in range(self.size + 1)]

    def col_edges(self) -> list[int]:
        """The ``P + 1`` pixel columns where the patch columns start (and the last one ends)."""
        return [round(i * self.width / self.size) for i in range(self.size + 1)]

    def bounds(self, patch: int) -> tuple[int, int, int, int]:
        """``(top, bottom, left, right)`` pixel bounds (bottom/right exclusive) of one patch."""
        self.check(patch)
        r, c = divmod(int(patch), self.size)
        re, ce = self.row_edges(), self.col_edges()
        return re[r], re[r + 1], ce[c], ce[c + 1]

    def check(self, patches: int | Iterable[int], unique: bool = True) -> list[int]:
        """Validate patch ids (one id or an iterable of ids) and return them as Python ints.

        Raises ``ValueError`` for a non-integer id (bool, float, string), an id outside
        ``0..P²−1`` (the message names the range) and, with ``unique``, a repeated id.
        """
        return check_patch_ids(patches, self.num_patches, unique=unique, grid_size=self.size)

    def mask(self, patches: Iterable[int], device: torch.device | None = None) -> Tensor:
        """Boolean pixel mask ``(H, W)`` of the union of ``patches``."""
        m = torch.zeros(self.height, self.width, dtype=torch.bool, device=device)
        for p in self.check(patches, unique=False):
            top, bottom, left, right = self.bounds(p)
            m[top:bottom, left:right] = True
        return m

    def patch_masks(self, patches: Sequence[int], device: torch.device | None = None) -> Tensor:
        """Stacked masks ``(len(patches), H, W)``, one per patch."""
        patches = self.check(patches, unique=False)
        return torch.stack([self.mask([p], device) for p in patches]) if len(patches) else torch.zeros(
            0, self.height, self.width, dtype=torch.bool, device=device)

    def subset_masks(self, patches: Sequence[int], subsets: Sequence[int], device=None) -> Tensor:
        """Masks ``(len(subsets), H, W)`` of ``clip_T`` for subsets given as bitmasks over ``patches``."""
        per = self.patch_masks(patches, device)
        subsets = [check_subset_bitmask(s, len(patches)) for s in subsets]
        out = torch.zeros(len(subsets), self.height, self.width, dtype=torch.bool, device=device)
        for k, s in enumerate(subsets):
            for i in range(len(patches)):
                if (int(s) >> i) & 1:
                    out[k] |= per[i]
        return out

    def patch_scores(self, values: Tensor) -> Tensor:
        """Mean of a ``(H, W)`` map inside each patch → ``(P*P,)``."""
        scores = torch.empty(self.num_patches, dtype=torch.float64)
        for p in range(self.num_patches):
            top, bottom, left, right = self.bounds(p)
            scores[p] = values[top:bottom, left:right].double().mean()
        return scores


def subset_to_patches(subset: int, patches: Sequence[int]) -> list[int]:
    """The patch ids in a subset bitmask (bit i ⇔ ``patches[i]``); the bitmask must be a true
    integer in ``0..2^n−1``.
    """
    subset = check_subset_bitmask(subset, len(patches))
    return [p for i, p in enumerate(patches) if (subset >> i) & 1]


def patches_to_subset(ids: Iterable[int], patches: Sequence[int]) -> int:
    """Bitmask of a set of distinct patch ids that must all be in ``patches`` (a list of true
    integers; a string, bool or float is a ``ValueError``).
    """
    checked = check_subset_ids(ids, patches)
    pos = {int(p): i for i, p in enumerate(patches)}
    mask = 0
    for p in checked:
        mask |= 1 << pos[p]
    return mask


def check_num_patches(n: int, max_patches: int = DEFAULT_MAX_PATCHES) -> int:
    """``n`` when it is a true integer in ``1..max_patches``; never computes ``2**n`` for a huge
    ``n`` (:class:`TooManyPatchesError` above the limit).
    """
    max_patches = check_positive_int(max_patches, "max_patches", max=64)
    if not is_integer(n):
        raise PatchError(f"the number of patches n must be an integer, got {short_repr(n)}")
    n = int(n)
    if n < 1:
        raise PatchError(f"select at least one patch (n must be at least 1, got {short_repr(n)})")
    if n > max_patches:
        # never compute 2**n for an absurd n (it is only there to explain the limit)
        need = f"2^{n} = {2 ** n:,}" if n <= 64 else f"2^{short_repr(n)}"
        raise TooManyPatchesError(
            f"{short_repr(n)} patches need {need} minimal features; the limit is {max_patches} "
            f"(2^{max_patches} = {2 ** max_patches:,}). Choose fewer patches, or raise max_patches "
            "(--max-patches on the command line) if you have the memory and time."
        )
    return n


def select_patches(
    grid: PatchGrid,
    n: int | None = None,
    how: str | Sequence[int] = "foreground",
    image: Tensor | None = None,
    reference: Tensor | None = None,
    mask: Tensor | None = None,
    seed: int = 0,
    max_patches: int = DEFAULT_MAX_PATCHES,
) -> list[int]:
    """Choose the patch ids ``N``.

    ``how`` is an explicit list of ids, ``"random"`` (seeded), or ``"foreground"``.  With a
    foreground ``mask`` ``(H, W)`` (values in [0, 1]; the built-in models supply one, see
    :mod:`prsg_widgets.models.priors`), the ``n`` patches are drawn at random (seeded) among those
    at least half covered by it, as the paper picks them on the foreground object; when fewer
    are, the most covered ones fill up.  Without a mask, the ``n`` patches where ``image`` differs
    most from ``reference`` (the baseline image ``g(b)``).  Ties are broken by a seeded shuffle.
    The result is sorted.

    Everything is checked first (:mod:`prsg_widgets.core.validate`): ids are distinct true
    integers in range; ``n``, ``seed`` and ``max_patches`` true integers; a string ``how`` is
    ``"random"`` or ``"foreground"`` (any other string is an error, never a list of digits); the
    mask is ``(H, W)`` with finite values in [0, 1] (or bool); the image and reference are finite.
    """
    if isinstance(how, (str, bytes)):
        if how not in ("random", "foreground"):
            raise ValueError(f"unknown selection {short_repr(how)}: use a list of ids such as [5, 6], "
                             "'random' or 'foreground'")
    elif is_integer(how) or not isinstance(how, Iterable):
        raise ValueError(f"patches must be a list of ids such as [5, 6], 'random' or 'foreground', "
                         f"got {short_repr(how)}")
    max_patches = check_positive_int(max_patches, "max_patches", max=64)
    seed = check_seed(seed)
    if mask is not None:
        mask = check_mask(mask, (grid.height, grid.width), "the foreground mask")
    if not isinstance(how, (str, bytes)):
        ids = grid.check(how, unique=True)
        check_num_patches(len(ids), max_patches)
        return sorted(ids)
    if n is None:
        raise ValueError("give n, the number of patches to select")
    n = check_num_patches(n, max_patches)
    if n > grid.num_patches:
        raise ValueError(f"cannot select {n} patches from a grid of {grid.num_patches}; "
                         f"choose n ≤ {grid.num_patches} or a finer grid")
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(grid.num_patches, generator=gen)
    if how == "random":
        return sorted(order[:n].tolist())
    if mask is not None:
        cover = grid.patch_scores(mask)
        # on the object (≥ half covered) first, in seeded random order; then by coverage
        scores = torch.where(cover[order] >= 0.5, torch.full_like(cover[order], 2.0), cover[order])
        ranked = order[torch.argsort(-scores, stable=True)]
        return sorted(ranked[:n].tolist())
    if image is None or reference is None:
        raise ValueError("'foreground' needs the image and the reference image g(b), or a mask")
    for what, t in (("the image", image), ("the reference image g(b)", reference)):
        if not isinstance(t, Tensor) or t.dim() < 2 or tuple(t.shape[-2:]) != (grid.height, grid.width):
            raise ValueError(f"{what} must be a (C, H, W) tensor with (H, W) = ({grid.height}, {grid.width}), "
                             f"got {tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__}")
        check_finite(t, what)
    scores = grid.patch_scores((image.float() - reference.float()).abs().mean(0).cpu())
    # stable sort of a seeded permutation breaks ties reproducibly
    ranked = order[torch.argsort(-scores[order], stable=True)]
    return sorted(ranked[:n].tolist())
