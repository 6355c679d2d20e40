"""The P×P patch grid, pixel masks of patch sets, and the choice of the ``n`` patches ``N``.

Patch ids are ``row * P + col``.  When ``P`` does not divide the image size, patch borders are at
``round(i * H / P)`` (DESIGN.md §1), so patches differ by at most one pixel.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence, Union

import torch
from torch import Tensor

DEFAULT_MAX_PATCHES = 12


class TooManyPatchesError(ValueError):
    """More patches than the limit: the solver needs ``2^n`` minimal features."""


@dataclass(frozen=True)
class PatchGrid:
    """A ``size × size`` grid over an ``height × width`` image."""

    height: int
    width: int
    size: int = 6

    def __post_init__(self) -> None:
        if self.size < 1 or self.size > min(self.height, self.width):
            raise ValueError(
                f"grid size must be between 1 and {min(self.height, self.width)} for a "
                f"{self.height}×{self.width} image, got {self.size}"
            )

    @property
    def num_patches(self) -> int:
        return self.size * self.size

    def row_edges(self) -> list[int]:
        return [round(i * self.height / self.size) for i in range(self.size + 1)]

    def col_edges(self) -> list[int]:
        return [round(i * self.width / self.size) for i in range(self.size + 1)]

    def bounds(self, patch: int) -> tuple[int, int, int, int]:
        """``(top, bottom, left, right)`` pixel bounds (bottom/right exclusive) of one patch."""
        self.check(patch)
        r, c = divmod(int(patch), self.size)
        re, ce = self.row_edges(), self.col_edges()
        return re[r], re[r + 1], ce[c], ce[c + 1]

    def check(self, patches: Union[int, Iterable[int]]) -> list[int]:
        """Validate patch ids; raises ``ValueError`` naming the valid range."""
        ids = [int(patches)] if isinstance(patches, (int,)) or hasattr(patches, "__index__") else [int(p) for p in patches]
        bad = [p for p in ids if not 0 <= p < self.num_patches]
        if bad:
            raise ValueError(
                f"patch ids {bad} are out of range: a {self.size}×{self.size} grid has ids "
                f"0..{self.num_patches - 1} (id = row*{self.size} + col)"
            )
        return ids

    def mask(self, patches: Iterable[int], device: Optional[torch.device] = None) -> Tensor:
        """Boolean pixel mask ``(H, W)`` of the union of ``patches``."""
        m = torch.zeros(self.height, self.width, dtype=torch.bool, device=device)
        for p in self.check(list(patches)):
            t, b, l, r = self.bounds(p)
            m[t:b, l:r] = True
        return m

    def patch_masks(self, patches: Sequence[int], device: Optional[torch.device] = None) -> Tensor:
        """Stacked masks ``(len(patches), H, W)``, one per patch."""
        return torch.stack([self.mask([p], device) for p in patches]) if len(patches) else torch.zeros(
            0, self.height, self.width, dtype=torch.bool, device=device)

    def subset_masks(self, patches: Sequence[int], subsets: Sequence[int], device=None) -> Tensor:
        """Masks ``(len(subsets), H, W)`` of ``clip_T`` for subsets given as bitmasks over ``patches``."""
        per = self.patch_masks(patches, device)
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
            t, b, l, r = self.bounds(p)
            scores[p] = values[t:b, l:r].double().mean()
        return scores


def subset_to_patches(subset: int, patches: Sequence[int]) -> list[int]:
    """The patch ids in a subset bitmask (bit i ⇔ ``patches[i]``)."""
    return [p for i, p in enumerate(patches) if (int(subset) >> i) & 1]


def patches_to_subset(ids: Iterable[int], patches: Sequence[int]) -> int:
    """Bitmask of a set of patch ids that must all be in ``patches``."""
    pos = {int(p): i for i, p in enumerate(patches)}
    mask = 0
    for p in ids:
        if int(p) not in pos:
            raise ValueError(f"patch {int(p)} is not one of the selected patches {list(patches)}")
        mask |= 1 << pos[int(p)]
    return mask


def check_num_patches(n: int, max_patches: int = DEFAULT_MAX_PATCHES) -> None:
    if n < 1:
        raise ValueError("select at least one patch")
    if n > max_patches:
        # never compute 2**n for an absurd n (it is only there to explain the limit)
        need = f"2^{n} = {2 ** n:,}" if n <= 64 else f"2^{n}"
        raise TooManyPatchesError(
            f"{n} patches need {need} minimal features; the limit is {max_patches} "
            f"(2^{max_patches} = {2 ** max_patches:,}). Choose fewer patches, or raise max_patches "
            "if you have the memory and time."
        )


def select_patches(
    grid: PatchGrid,
    n: Optional[int] = None,
    how: Union[str, Sequence[int]] = "foreground",
    image: Optional[Tensor] = None,
    reference: Optional[Tensor] = None,
    mask: Optional[Tensor] = None,
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
    """
    if not isinstance(how, str):
        ids = grid.check(list(how))
        if len(set(ids)) != len(ids):
            raise ValueError(f"patch ids must be distinct, got {ids}")
        check_num_patches(len(ids), max_patches)
        return sorted(ids)
    if n is None:
        raise ValueError("give n, the number of patches to select")
    check_num_patches(n, max_patches)
    if n > grid.num_patches:
        raise ValueError(f"cannot select {n} patches from a grid of {grid.num_patches}")
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(grid.num_patches, generator=gen)
    if how == "random":
        return sorted(order[:n].tolist())
    if how != "foreground":
        raise ValueError(f"unknown selection {how!r}: use a list of ids, 'random' or 'foreground'")
    if mask is not None:
        if tuple(mask.shape[-2:]) != (grid.height, grid.width) or mask.dim() != 2:
            raise ValueError(f"the foreground mask must be (H, W) = ({grid.height}, {grid.width}), "
                             f"got {tuple(mask.shape)}")
        cover = grid.patch_scores(mask.float().cpu())
        # on the object (≥ half covered) first, in seeded random order; then by coverage
        scores = torch.where(cover[order] >= 0.5, torch.full_like(cover[order], 2.0), cover[order])
        ranked = order[torch.argsort(-scores, stable=True)]
        return sorted(ranked[:n].tolist())
    if image is None or reference is None:
        raise ValueError("'foreground' needs the image and the reference image g(b), or a mask")
    scores = grid.patch_scores((image.float() - reference.float()).abs().mean(0).cpu())
    # stable sort of a seeded permutation breaks ties reproducibly
    ranked = order[torch.argsort(-scores[order], stable=True)]
    return sorted(ranked[:n].tolist())
