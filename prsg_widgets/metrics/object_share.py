"""Toy-scenes ground truth: how much of the top components' action fields lies on the true
objects of a ``toy-scenes`` sample (an object patch is at least ``min_cover`` covered by an
object mask, choice), against the chance level, the object patches' share of ``N``.
"""
from __future__ import annotations

import numpy as np

from ..backend import Explanation


def object_share(explanation: Explanation, top: int = 5, min_cover: float = 0.25) -> dict:
    """Toy-scenes ground truth: how much of the top-``top`` components' action fields lies on
    true objects.  A patch is an *object patch* when the union of the sample's object masks
    covers at least ``min_cover`` of its pixels.  Returns ``share`` (object patches among all
    patch memberships of the top fields), ``chance`` (object patches among ``N``),
    ``object_patches`` and ``fields``.  Needs a sample with ``object_masks``.
    """
    masks = explanation.sample.object_masks
    if masks is None:
        raise ValueError("this sample has no ground-truth object masks (use the 'toy-scenes' model)")
    union = masks.reshape(-1, *masks.shape[-2:]).any(0).cpu()
    grid = explanation.grid
    obj = [p for p in explanation.patches if float(union[grid.mask([p])].float().mean()) >= min_cover]
    fields = [c.patches for c in explanation.components(top=top)]
    members = [p for fl in fields for p in fl]
    share = float(np.mean([p in obj for p in members])) if members else float("nan")
    return {"share": share, "chance": len(obj) / explanation.n, "object_patches": obj, "fields": fields}
