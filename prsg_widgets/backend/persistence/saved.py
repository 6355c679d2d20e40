"""Saving and loading an :class:`~prsg_widgets.backend.explanation.Explanation` (``.npz``).

A saved explanation is a complete, checksummed file (arrays documented in the README).  Loading
checks every field (:func:`prsg_widgets.backend.persistence.filecheck.check_explanation`) before anything is
built from it, so an edited or damaged file is one ``ValueError`` naming the file and the field,
never a later torch error or a silently wrong value.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..sample import Sample
from .filecheck import check_explanation
from .files import DamagedFile, read_npz, write_npz
from .store import FORMAT, SolveRecord

# The functions take and make an ``Explanation``; they are typed loosely (``Any``, a ``type``)
# because explanation.py, above this module, calls them: importing it here, even for types only,
# would tie the two in a circle.
Explanation = Any

__all__ = ["explanation_arrays", "save_explanation", "load_explanation"]

_RESERVED = ("meta", "object_masks", "checksum")


def explanation_arrays(expl: Explanation, rec: SolveRecord) -> dict[str, np.ndarray]:
    """The arrays of a saved explanation but its metadata (``rec`` is ``expl``'s solve record);
    solves what is missing.
    """
    comps = expl.component_array()
    return {
        "patches": np.asarray(expl.patches, dtype=np.int64),
        "minimal_features": rec.features.numpy().copy(),
        "components": comps.numpy(),
        "baseline": expl.baseline.numpy().copy(),
        "feature": expl.feature.numpy().copy(),
        "image": expl.image.numpy().copy(),
        "mse": rec.mse.copy(),
        "patch_mse": rec.patch_mse.copy(),
        "max_patch_mse": expl.max_patch_mse,
        "feasible": rec.feasible.copy(),
        "iterations": rec.iterations.copy(),
        "epsilon": np.float64(expl.epsilon),
        "code": expl.sample.code.detach().cpu().numpy(),
    }


def save_explanation(expl: Explanation, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write ``expl`` (solving what is missing), its metadata, ``extra`` arrays and a checksum."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name ending in .npz")
    arrays = expl.to_arrays()
    for name, value in (extra or {}).items():
        if name in arrays or name in _RESERVED:
            raise ValueError(f"extra array name {name!r} is taken")
        arrays[name] = np.asarray(value)
    arrays["meta"] = np.asarray(json.dumps(expl.meta.as_dict()))
    if expl.sample.object_masks is not None:
        arrays["object_masks"] = expl.sample.object_masks.detach().cpu().numpy()
    return write_npz(path, arrays, compressed=True)


def load_explanation(cls: type, path: str | Path, explainer=None) -> Explanation:
    """``cls`` (an Explanation class) read from ``path`` after checking every field."""
    from ..explanation_meta import ExplanationMeta

    path = Path(path)
    again = "re-create it with Explanation.save or prsg explain"
    try:
        data = read_npz(path)
        checked = check_explanation(data, FORMAT)
    except DamagedFile as exc:
        text = " ".join(str(exc).split())
        raise ValueError(f"{text if str(path) in text else f'{path}: {text}'}; {again}") from None
    except PermissionError as exc:
        raise PermissionError(exc.errno, f"cannot read {path} (permission denied)", str(path)) from None
    meta = ExplanationMeta.from_dict(checked["meta"])
    n, d = checked["n"], checked["d"]
    masks = torch.from_numpy(data["object_masks"]) if "object_masks" in data else None
    sample = Sample(meta.seed, torch.from_numpy(data["code"]), torch.from_numpy(data["image"]),
                    torch.from_numpy(data["feature"]), masks, meta.label)
    rec = SolveRecord(n, d)
    rec.write(np.arange(1 << n), torch.from_numpy(data["minimal_features"]), data["mse"], data["patch_mse"],
              data["feasible"], data["iterations"])
    if explainer is not None:
        meta.check_matches(explainer.meta(), path)
        sample.code = sample.code.to(explainer.device)
        try:
            _check_sample(sample, explainer)
        except DamagedFile as exc:
            raise ValueError(f"{path}: {exc}; {again}") from None
    return cls(rec, sample, checked["patches"], meta, torch.from_numpy(data["baseline"]), checked["epsilon"], explainer)


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    scale = float(b.abs().max()) if b.numel() else 0.0
    return a.shape == b.shape and bool(torch.allclose(a.double(), b.double(), rtol=1e-3, atol=1e-4 * scale + 1e-6))


def _check_sample(sample: Sample, explainer) -> None:
    """With the model at hand, the saved image must be ``g(f)`` and (for a sample made from a
    code) the saved feature ``head(code)``: what no file check alone can tell.
    """
    gen = explainer.generator
    with torch.no_grad():
        if sample.seed is not None:
            try:
                feature = gen.head(sample.code).reshape(-1).cpu()
            except (RuntimeError, ValueError, TypeError):
                raise DamagedFile("field 'code' does not fit the model's input") from None
            if not _close(sample.feature.float(), feature.float()):
                raise DamagedFile("field 'feature' is not the model's feature of field 'code'")
        image = gen.tail(sample.feature.to(explainer.device).float().unsqueeze(0), sample.code)[0].cpu()
    if not _close(sample.image.float(), image.float()):
        raise DamagedFile("field 'image' is not the image the model renders from field 'feature'")
