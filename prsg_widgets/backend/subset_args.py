"""The ways a user names a subset ``T ⊆ N`` of an explanation's patches, read into bitmasks.

A subset is an int bitmask over the patches (bit i ⇔ ``patches[i]``), a list of patch ids, an
entry of :meth:`Explanation.ranking` (:class:`RankingEntry`) or a :class:`Component`; a set of
components to keep (:meth:`Explanation.reconstruct`) is a list of those or a boolean mask.
Anything else is refused with a message saying what was passed and what is expected.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union

import numpy as np
import torch
from torch import Tensor

from ..core.grid import patches_to_subset
from ..core.validate import check_subset_bitmask, check_subset_ids, is_integer, short_repr
from .sample import Component, RankingEntry

SubsetLike = Union[int, Iterable[int], RankingEntry, Component]  # noqa: UP007 (a runtime alias: `|` of a typing generic needs 3.10's types.UnionType to accept it)
"""A subset: an int bitmask, patch ids, an entry of ``ranking()`` or a :class:`Component`."""

__all__ = ["SubsetLike", "keep_bitmasks", "subset_bitmask"]


def _looks_scored(value: Any) -> bool:
    """A plain ``(S, norm)`` pair copied out of ``ranking()``: an integer and a float or ``None``
    (never read as patch ids, which are all integers, nor silently as ``S``).
    """
    return (isinstance(value, tuple) and len(value) == 2 and is_integer(value[0])
            and (value[1] is None or isinstance(value[1], (float, np.floating))))


def subset_bitmask(T: Any, patches: Sequence[int]) -> int:
    """The bitmask over ``patches`` of the subset ``T`` (see :data:`SubsetLike`); ``ValueError``
    for a bitmask out of range or ids that are not among ``patches``.
    """
    if isinstance(T, Component):  # by its patch ids: one of another explanation must fit these patches
        T = list(T.patches)
    elif isinstance(T, RankingEntry):
        T = T.subset
    if is_integer(T) or isinstance(T, (bool, np.bool_, float)):
        return check_subset_bitmask(T, len(patches))
    try:
        return patches_to_subset(check_subset_ids(T, patches), patches)
    except ValueError as exc:
        if _looks_scored(T):
            raise ValueError(f"{exc}: {short_repr(T)} looks like a (subset, norm) pair of ranking(); "
                             f"pass its subset {T[0]} or the ranking() entry itself") from None
        raise


def keep_bitmasks(keep: Any, patches: Sequence[int]) -> list[int] | Tensor:
    """The components :meth:`Explanation.reconstruct` keeps: a boolean mask of length ``2^n`` (a
    tensor or array, returned as a tensor) or an iterable of subsets (returned as bitmasks).
    """
    size = 1 << len(patches)
    expected = (f"keep takes a list of subsets — int bitmasks, lists of patch ids of {list(patches)}, "
                "entries of ranking() or Components, e.g. e.reconstruct(e.ranking()[:4]) — "
                f"or a boolean mask of length 2^n = {size}")
    if isinstance(keep, np.ndarray) and keep.dtype == np.bool_:
        keep = torch.from_numpy(keep)
    if isinstance(keep, Tensor) and keep.dtype == torch.bool:
        if keep.numel() != size:
            raise ValueError(f"{expected}; got a boolean mask of {keep.numel()} entries")
        return keep.reshape(-1)
    if isinstance(keep, (RankingEntry, Component)):
        raise TypeError(f"{expected}; got a single {type(keep).__name__} {keep!r}: put it in a list")
    if isinstance(keep, (str, bytes, Mapping)) or is_integer(keep) or not isinstance(keep, Iterable):
        raise TypeError(f"{expected}; got {short_repr(keep)}")
    out = []
    for i, item in enumerate(keep):
        if isinstance(item, Tensor):
            item = item.item() if item.ndim == 0 else item.tolist()
        try:
            out.append(subset_bitmask(item, patches))
        except ValueError as exc:
            raise ValueError(f"{expected}; item {i} is {short_repr(item)}: {exc}") from None
    return out
