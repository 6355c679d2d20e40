"""On-disk cache of solved minimal features, one ``.npz`` per explanation key.

Files are written atomically (temporary file, then ``os.replace``), so an interrupted run leaves
either the previous complete file or the new one.  A file that cannot be read is moved aside
(``*.corrupt``) with a warning and the work is redone.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np
import torch

if TYPE_CHECKING:  # pragma: no cover
    from .explainer import Explanation


class SolveCache:
    """Directory of partial or complete solves keyed by :meth:`Explainer.cache_key`."""

    def __init__(self, directory: Union[str, Path]) -> None:
        self.directory = Path(directory).expanduser()
        self.directory.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.npz"

    def save(self, path: Path, expl: "Explanation") -> None:
        with expl._lock:
            arrays = {
                "features": expl._features.numpy().copy(), "solved": expl._solved.copy(),
                "mse": expl.mse.copy(), "patch_mse": expl.patch_mse.copy(), "feasible": expl.feasible.copy(),
                "iterations": expl.iterations.copy(),
            }
        self._write(path, arrays)

    def save_tensor(self, key: str, value: torch.Tensor) -> None:
        """Store one tensor (e.g. the baseline ``b``) under ``key``."""
        self._write(self.path(key), {"value": value.detach().cpu().numpy()})

    def load_tensor(self, key: str, shape: tuple) -> "torch.Tensor | None":
        """The tensor stored under ``key``, or ``None`` if absent or unreadable (moved aside)."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                value = data["value"]
            if value.shape != tuple(shape):
                raise ValueError(f"shape {value.shape} does not match {tuple(shape)}")
        except Exception as exc:
            self._set_aside(path, exc)
            return None
        return torch.from_numpy(value)

    def _set_aside(self, path: Path, exc: Exception) -> None:
        aside = path.with_suffix(".corrupt")
        os.replace(path, aside)
        warnings.warn(f"cache file {path} could not be read ({exc}); moved it to {aside} and "
                      "will recompute its contents", RuntimeWarning, stacklevel=4)

    def _write(self, path: Path, arrays: dict) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load_into(self, path: Path, expl: "Explanation") -> int:
        """Fill ``expl`` with the solved rows found in ``path``; returns how many were loaded."""
        if not path.exists():
            return 0
        try:
            with np.load(path, allow_pickle=False) as data:
                feats, solved = data["features"], data["solved"].astype(bool)
                mse, feas, iters = data["mse"], data["feasible"], data["iterations"]
                pmse = data["patch_mse"]
            if (feats.shape != tuple(expl._features.shape) or solved.shape != expl._solved.shape
                    or pmse.shape != expl.patch_mse.shape):
                raise ValueError(f"shape {feats.shape} does not match {tuple(expl._features.shape)}")
        except Exception as exc:  # any unreadable file: keep it for inspection, recompute
            self._set_aside(path, exc)
            return 0
        rows = np.flatnonzero(solved)
        expl._features[rows] = torch.from_numpy(feats[rows])
        expl._solved[rows] = True
        expl.mse[rows], expl.feasible[rows], expl.iterations[rows] = mse[rows], feas[rows], iters[rows]
        expl.patch_mse[rows] = pmse[rows]
        return len(rows)
