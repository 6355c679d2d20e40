"""Where the foreground object is, per built-in model: the rule behind ``patches="foreground"``.

The paper picks the ``n`` patches at random on the foreground object.  Each built-in model says
where its object is with a function ``(code, image) → (H, W)`` map in [0, 1], stored as
``split.extras["foreground"]``:

* ``dcgan-faces``: a face-region prior — DigiFace-1M crops are aligned, the face fills an upright
  ellipse centred slightly below the image centre (rows 0.17–0.93, columns 0.22–0.78);
* ``eyes-128``: an eye-region prior — a wide ellipse across the middle (rows 0.2–0.8, columns
  0.05–0.95), where the painted eye sits;
* ``toy-scenes``: the union of the true object masks.

Any other generator: pass ``mask=`` to ``Explainer.explain`` (or put a function under
``extras["foreground"]`` of your split); without one, the patches where the image differs most
from ``g(b)`` are used.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

ForegroundFn = Callable[[Tensor, Tensor], Tensor]


def ellipse_mask(height: int, width: int, centre: tuple[float, float], radii: tuple[float, float]) -> Tensor:
    """``(H, W)`` float mask of an axis-aligned ellipse, centre and radii as fractions of the size."""
    rows = (torch.arange(height, dtype=torch.float32) + 0.5) / height
    cols = (torch.arange(width, dtype=torch.float32) + 0.5) / width
    dy = (rows[:, None] - centre[0]) / radii[0]
    dx = (cols[None, :] - centre[1]) / radii[1]
    return ((dy ** 2 + dx ** 2) <= 1).float()


def ellipse_prior(centre: tuple[float, float], radii: tuple[float, float]) -> ForegroundFn:
    """A fixed region prior: the same ellipse for every image."""

    def foreground(code: Tensor, image: Tensor) -> Tensor:
        return ellipse_mask(image.shape[-2], image.shape[-1], centre, radii)

    return foreground


FACE_PRIOR = ellipse_prior((0.55, 0.5), (0.38, 0.28))
EYE_PRIOR = ellipse_prior((0.5, 0.5), (0.3, 0.45))


def union_of_objects(object_masks: Callable[[Tensor], Tensor]) -> ForegroundFn:
    """Foreground = the union of a model's true object masks ``(B, K, H, W)``."""

    def foreground(code: Tensor, image: Tensor) -> Tensor:
        return object_masks(code).reshape(-1, *image.shape[-2:]).any(0).float()

    return foreground
