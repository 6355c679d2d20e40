"""The file of a saved explanation (``.npz``): what ``Explanation.save`` writes and ``.load`` reads.

A saved explanation is a complete, checksummed file (arrays documented in the README).  Reading
checks every field (:func:`~prsg_widgets.backend.persistence.filecheck.check_explanation`) before
anything is built from it, so an edited or damaged file is one ``ValueError`` naming the file and
the field, never a later torch error or a silently wrong value.  This module knows arrays, files
and the row schema, not the :class:`~prsg_widgets.backend.explanation.Explanation`: the
explanation hands it its arrays and builds itself from what :func:`read_explanation` returns.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from ...core.solver.rows import ROWS
from ..sample import Sample
from .filecheck import check_explanation
from .files import DamagedFile, read_npz, write_npz
from .store import FORMAT, SolveRecord

__all__ = ["SavedExplanation", "check_sample", "read_explanation", "row_arrays", "write_explanation"]

_RESERVED = ("meta", "object_masks", "checksum")
_AGAIN = "re-create it with Explanation.save or prsg explain"


class SavedExplanation(NamedTuple):
    """What a saved explanation holds, every field checked: its solve record (every row solved),
    sample, patches, metadata (the JSON object of ``ExplanationMeta.as_dict``), ``b`` and ε.
    """

    record: SolveRecord
    sample: Sample
    patches: list[int]
    meta: dict[str, Any]
    baseline: torch.Tensor
    epsilon: float


def row_arrays(record: SolveRecord, baseline: torch.Tensor) -> dict[str, np.ndarray]:
    """The per-subset arrays of a saved explanation, named as the file names them: the saved
    fields of the row schema, the kept ones copied from ``record``, the others derived.
    """
    with record.lock:
        rows = {name: torch.from_numpy(v) for name, v in record.arrays(np.arange(1 << record.n)).items()}
        solved = record.solved.copy()
    out = {}
    for f in ROWS:
        if f.saved is None:
            continue
        value = rows[f.name].numpy() if f.derive is None else np.where(solved, f.derive(rows, baseline).numpy(), f.fill)
        out[f.saved] = value.astype(f.dtype, copy=False)
    return out


def write_explanation(path: str | Path, arrays: dict[str, np.ndarray], meta: dict[str, Any],
                      object_masks: torch.Tensor | None = None, extra: dict[str, Any] | None = None) -> Path:
    """Write a saved explanation: its ``arrays``, ``meta`` (JSON), the sample's ``object_masks``,
    ``extra`` arrays (names not taken) and a checksum.
    """
    path = Path(path)
    if path.exists() and path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name ending in .npz")
    arrays = dict(arrays)
    for name, value in (extra or {}).items():
        if name in arrays or name in _RESERVED:
            raise ValueError(f"extra array name {name!r} is taken")
        arrays[name] = np.asarray(value)
    arrays["meta"] = np.asarray(json.dumps(meta))
    if object_masks is not None:
        arrays["object_masks"] = object_masks.detach().cpu().numpy()
    return write_npz(path, arrays, compressed=True)


def read_explanation(path: str | Path) -> SavedExplanation:
    """A saved explanation read from ``path`` after checking every field: a ``ValueError`` naming
    the file and the field otherwise.
    """
    path = Path(path)
    try:
        data = read_npz(path)
        checked = check_explanation(data, FORMAT)
    except DamagedFile as exc:
        text = " ".join(str(exc).split())
        raise ValueError(f"{text if str(path) in text else f'{path}: {text}'}; {_AGAIN}") from None
    except PermissionError as exc:
        raise PermissionError(exc.errno, f"cannot read {path} (permission denied)", str(path)) from None
    meta = checked["meta"]
    masks = torch.from_numpy(data["object_masks"]) if "object_masks" in data else None
    sample = Sample(meta.get("seed"), torch.from_numpy(data["code"]), torch.from_numpy(data["image"]),
                    torch.from_numpy(data["feature"]), masks, meta.get("label", ""))
    rec = SolveRecord(checked["n"], checked["d"])
    rec.write(np.arange(1 << checked["n"]), {f.name: data[f.saved] for f in ROWS if f.kept and f.saved})
    return SavedExplanation(rec, sample, checked["patches"], meta, torch.from_numpy(data["baseline"]),
                            checked["epsilon"])


def check_sample(sample: Sample, explainer: Any, path: str | Path) -> None:
    """With the model at hand, the saved image must be ``g(f)`` and (for a sample made from a
    code) the saved feature ``head(code)``: what no file check alone can tell.  A ``ValueError``
    naming ``path`` otherwise.
    """
    try:
        _check_sample(sample, explainer)
    except DamagedFile as exc:
        raise ValueError(f"{path}: {exc}; {_AGAIN}") from None


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    scale = float(b.abs().max()) if b.numel() else 0.0
    return a.shape == b.shape and bool(torch.allclose(a.double(), b.double(), rtol=1e-3, atol=1e-4 * scale + 1e-6))


def _check_sample(sample: Sample, explainer: Any) -> None:
    """:func:`check_sample`, refusing with a :class:`DamagedFile` naming the field."""
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
