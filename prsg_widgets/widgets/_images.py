"""Images and arrays as the bytes the views draw: raw RGBA (lossless, unlike ipycanvas' JPEG
for RGB) and little-endian float32 — a display conversion only, no paper quantity.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor


def _to_hwc(image: ArrayLike) -> np.ndarray:
    """A tensor ``(C, H, W)`` (the package's layout), or an array ``(H, W, C)`` / ``(C, H, W)`` /
    ``(H, W)``, as ``(H, W, C)``.  A 3-D array is taken as channel-last when its last axis has
    1, 3 or 4 entries, else as channel-first.
    """
    channel_first = isinstance(image, torch.Tensor)
    arr = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    elif arr.ndim == 3:
        if channel_first or arr.shape[2] not in (1, 3, 4):
            arr = np.transpose(arr, (1, 2, 0))
    else:
        raise ValueError(f"an image must have 2 or 3 dimensions, got shape {arr.shape}")
    if arr.shape[2] not in (1, 3, 4):
        raise ValueError(f"an image needs 1, 3 or 4 channels, got shape {arr.shape}")
    return arr


def rgba_bytes(image: ArrayLike, value_range: Sequence[float] = (-1.0, 1.0)) -> tuple[bytes, int, int]:
    """An image as raw RGBA ``uint8`` bytes (row-major, 4 bytes a pixel) plus ``(width, height)``.

    ``image`` is ``(C, H, W)`` (torch layout) or ``(H, W, C)`` or ``(H, W)``, with values in
    ``value_range``; a ``uint8`` array is taken as is.  Raw bytes drawn through ``ImageData``
    keep every pixel exact (no JPEG step, unlike ``ipycanvas.put_image_data`` on RGB).
    """
    arr = _to_hwc(image)
    if arr.dtype == np.uint8:
        u8 = arr
    else:
        lo, hi = float(value_range[0]), float(value_range[1])
        if not hi > lo:
            raise ValueError(f"value_range must be increasing, got {value_range}")
        scaled = (arr.astype(np.float64) - lo) / (hi - lo)
        u8 = np.clip(np.rint(np.nan_to_num(scaled) * 255.0), 0, 255).astype(np.uint8)
    h, w, c = u8.shape
    if c == 1:
        u8 = np.repeat(u8, 3, axis=2)
    if u8.shape[2] == 3:
        u8 = np.concatenate([u8, np.full((h, w, 1), 255, np.uint8)], axis=2)
    return np.ascontiguousarray(u8).tobytes(), w, h


def signed_rgba_bytes(delta: ArrayLike, scale: float | None = None) -> tuple[bytes, int, int]:
    """A signed difference image (e.g. a regional pattern ``Δx_S``) as RGBA bytes: 0 is mid-grey,
    ``±scale`` (default ``max|Δx|``) the ends of the range — a display normalisation only.
    """
    arr = _to_hwc(delta).astype(np.float64)
    if scale is None:
        scale = float(np.nanmax(np.abs(arr))) if arr.size else 0.0
    if not scale > 0:
        scale = 1.0
    return rgba_bytes(arr, (-scale, scale))


def decode_rgba(data: bytes, width: int, height: int) -> np.ndarray:
    """Inverse of :func:`rgba_bytes`: ``(H, W, 4)`` ``uint8`` (used by tests and callers)."""
    arr = np.frombuffer(bytes(data), dtype=np.uint8)
    if arr.size != width * height * 4:
        raise ValueError(f"{arr.size} bytes do not make a {width}×{height} RGBA image")
    return arr.reshape(height, width, 4)


def float32_bytes(values: ArrayLike) -> bytes:
    """A 1-D float array as little-endian ``float32`` bytes (read in JS as ``Float32Array``)."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(values, dtype="<f4").reshape(-1)).tobytes()
