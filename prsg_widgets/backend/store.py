"""Where solved minimal features live: in memory, and (with a directory) on disk.

:class:`Store` alone owns persistence.  In memory, one :class:`SolveRecord` per explanation key
holds the rows solved so far; every :class:`~prsg_widgets.backend.Explanation` of that key reads
the same record, so two views of one explanation share their results.

On disk, a key is a folder of *parts*: each part is an ``.npz`` holding some solved subsets and a
SHA-256 checksum of its arrays.  A part is written once, atomically (temporary file, then
``os.replace``) and never rewritten, so two processes solving the same explanation cannot
overwrite each other's work, and a damaged part costs only its own subsets.  When a solve ends,
the parts are merged into one under a file lock (only parts read and verified are deleted).  On
load, a part whose checksum, shape or values are wrong is set aside (``*.corrupt``) with a warning
and its subsets are solved again.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import uuid
import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Union

import numpy as np
import torch
from filelock import FileLock
from torch import Tensor

from ..core.solver import SolveResult

FORMAT = 2
"""Version of the part format (part of every cache key)."""

_FIELDS = ("subsets", "features", "mse", "patch_mse", "feasible", "iterations")


def checksum(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of ``arrays`` (sorted by name)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def write_npz(path: Path, arrays: dict[str, np.ndarray], compressed: bool = False) -> Path:
    """Write ``arrays`` plus their ``checksum`` atomically to ``path``."""
    arrays = dict(arrays)
    arrays["checksum"] = np.asarray(checksum(arrays))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            (np.savez_compressed if compressed else np.savez)(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class DamagedFile(ValueError):
    """A file that cannot be read, fails its checksum, or holds impossible values."""


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """All arrays of a file written by :func:`write_npz`, after checking its checksum.

    Raises :class:`FileNotFoundError` when absent and :class:`DamagedFile` (a ``ValueError``)
    when truncated, altered or not an npz at all.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except Exception as exc:  # zipfile, zlib, EOF, pickle refusal: all mean "damaged"
        raise DamagedFile(f"{path} is damaged or not a prsg file ({type(exc).__name__}: {exc})") from None
    stored = arrays.pop("checksum", None)
    if stored is None:
        raise DamagedFile(f"{path} has no checksum (written by an older prsg_widgets)")
    if str(stored) != checksum(arrays):
        raise DamagedFile(f"{path} fails its checksum (the file was altered or truncated)")
    return arrays


@dataclass
class SolveRecord:
    """The solved rows of one explanation: ``features`` ``(2^n, d)`` and per-subset facts.

    Rows are written only through :meth:`Store.put` (under ``lock``); readers get copies or
    read-only views.  ``listeners`` are called with the new rows after each write.
    """

    n: int
    d: int
    features: Tensor = field(init=False)
    solved: np.ndarray = field(init=False)
    mse: np.ndarray = field(init=False)
    patch_mse: np.ndarray = field(init=False)
    feasible: np.ndarray = field(init=False)
    iterations: np.ndarray = field(init=False)
    lock: threading.RLock = field(init=False, default_factory=threading.RLock)
    listeners: list = field(init=False, default_factory=list)
    components: Optional[Tensor] = field(init=False, default=None)  # the transform, once complete
    norms: dict = field(init=False, default_factory=dict)  # ‖I(S)‖₂ of components computed so far
    norms_final: bool = field(init=False, default=False)  # norms read off the complete transform

    def __post_init__(self) -> None:
        size = 1 << self.n
        self.features = torch.full((size, self.d), float("nan"))
        self.solved = np.zeros(size, dtype=bool)
        self.mse = np.full(size, np.nan)
        self.patch_mse = np.full((size, self.n), np.nan)
        self.feasible = np.zeros(size, dtype=bool)
        self.iterations = np.zeros(size, dtype=np.int64)

    def write(self, rows: np.ndarray, features: Tensor, mse, patch_mse, feasible, iterations) -> None:
        with self.lock:
            self.features[torch.as_tensor(rows, dtype=torch.long)] = features.detach().float().cpu()
            self.mse[rows] = mse
            self.patch_mse[rows] = patch_mse
            self.feasible[rows] = feasible
            self.iterations[rows] = iterations
            self.solved[rows] = True
            self.components = None
            self.norms_final = False

    def arrays(self, rows: Optional[np.ndarray] = None) -> dict[str, np.ndarray]:
        """The solved rows (default: all solved) as a part's arrays."""
        with self.lock:
            rows = np.flatnonzero(self.solved) if rows is None else np.asarray(rows, dtype=np.int64)
            return {"subsets": rows.astype(np.int64), "features": self.features[rows].numpy().copy(),
                    "mse": self.mse[rows].copy(), "patch_mse": self.patch_mse[rows].copy(),
                    "feasible": self.feasible[rows].copy(), "iterations": self.iterations[rows].copy()}

    def check_part(self, part: dict[str, np.ndarray]) -> None:
        """Refuse a part whose shapes or values cannot belong to this record."""
        missing = [f for f in _FIELDS if f not in part]
        if missing:
            raise DamagedFile(f"missing arrays {missing}")
        rows = part["subsets"]
        k = rows.shape[0]
        if rows.ndim != 1 or (k and (rows.min() < 0 or rows.max() >= 1 << self.n)):
            raise DamagedFile(f"subset ids outside 0..{(1 << self.n) - 1}")
        if part["features"].shape != (k, self.d) or part["patch_mse"].shape != (k, self.n):
            raise DamagedFile(f"shape {part['features'].shape} does not match ({k}, {self.d})")
        if not np.isfinite(part["features"]).all() or not np.isfinite(part["mse"]).all():
            raise DamagedFile("NaN or inf in solved minimal features")
        if (part["iterations"] < 0).any():
            raise DamagedFile("negative iteration counts")


class Store:
    """Solve results by explanation key, in memory and optionally in ``directory``.

    ``record(key, n, d)`` returns the shared in-memory record of a key, filled from disk the first
    time.  ``put`` stores rows; ``flush`` writes what is not on disk yet as one part; ``compact``
    merges a key's parts into one.  A record stays in memory while any explanation holds it, and
    the ``max_records`` most recent ones stay even when none does.
    """

    def __init__(self, directory: Union[str, Path, None] = None, max_records: int = 64) -> None:
        self.directory = Path(directory).expanduser() if directory is not None else None
        if self.directory is not None:
            if self.directory.exists() and not self.directory.is_dir():
                raise ValueError(f"cache directory {self.directory} is a file; give a folder")
            self.directory.mkdir(parents=True, exist_ok=True)
            if not os.access(self.directory, os.W_OK):
                raise ValueError(f"cache directory {self.directory} is not writable; choose another")
        self.max_records = max_records
        self._records: "weakref.WeakValueDictionary[str, SolveRecord]" = weakref.WeakValueDictionary()
        self._recent: dict[str, SolveRecord] = {}  # strong references, most recent last
        self._unsaved: dict[str, tuple[SolveRecord, set[int]]] = {}  # rows not on disk yet
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ memory
    def record(self, key: str, n: int, d: int, describe: Optional[dict] = None) -> SolveRecord:
        """The record of ``key`` (created, and loaded from disk, on first use)."""
        with self._lock:
            rec = self._records.get(key)
            if rec is None or rec.n != n or rec.d != d:
                rec = SolveRecord(n, d)
                if self.directory is not None:
                    self._load_parts(key, rec)
                    if describe is not None:
                        self._describe(key, describe)
                self._records[key] = rec
            self._recent.pop(key, None)
            self._recent[key] = rec
            while len(self._recent) > self.max_records:
                del self._recent[next(iter(self._recent))]
            return rec

    def put(self, key: str, result: SolveResult, record: Optional[SolveRecord] = None) -> list[int]:
        """Store a solver result's rows in ``record`` (default: the record of ``key``); returns
        them.  Disk follows at the next :meth:`flush`."""
        rec = record if record is not None else self._records[key]
        rows = result.subsets.cpu().numpy().astype(np.int64)
        rec.write(rows, result.features, result.mse.cpu().numpy(), result.patch_mse.cpu().numpy(),
                  result.feasible.cpu().numpy(), result.iterations.cpu().numpy())
        with self._lock:
            self._unsaved.setdefault(key, (rec, set()))[1].update(rows.tolist())
        return rows.tolist()

    @staticmethod
    def notify(record: SolveRecord, owner, rows: list[int]) -> None:
        """Tell the record's listeners that ``rows`` landed (``callback(owner, rows)``).  A
        listener that raises is logged and skipped: a broken view must not stop a solve."""
        for cb in list(record.listeners):
            try:
                cb(owner, rows)
            except Exception:  # noqa: BLE001 - any error of a listener
                logging.getLogger("prsg_widgets").exception("a listener of %s failed", owner)

    # ------------------------------------------------------------------ disk
    def folder(self, key: str) -> Optional[Path]:
        return None if self.directory is None else self.directory / key

    def flush(self, key: str) -> int:
        """Write the rows of ``key`` not yet on disk as one new part; returns how many."""
        with self._lock:
            rec, pending = self._unsaved.pop(key, (None, set()))
        rows = sorted(pending)
        if not rows or self.directory is None:
            return 0
        try:
            write_npz(self.folder(key) / f"part-{uuid.uuid4().hex}.npz", rec.arrays(np.asarray(rows)))
        except BaseException:
            with self._lock:  # not on disk: try again at the next flush
                self._unsaved.setdefault(key, (rec, set()))[1].update(rows)
            raise
        return len(rows)

    def reload(self, key: str, record: Optional[SolveRecord] = None) -> int:
        """Read the parts of ``key`` that other processes wrote since into ``record`` (default: the
        key's own record), under the folder's lock, so a merge by another process (it writes the
        merged part, then deletes the ones it read) is never seen half-done.  Rows are write-once,
        so reading one again changes nothing.  Returns how many rows were read."""
        folder = self.folder(key)
        if folder is None or not folder.is_dir():
            return 0
        rec = record if record is not None else self._records[key]
        with FileLock(str(folder / ".lock"), timeout=120):
            return self._load_parts(key, rec)

    def on_disk(self, key: str) -> int:
        """How many distinct subsets of ``key`` verified parts on disk hold (reads them)."""
        folder = self.folder(key)
        if folder is None or not folder.is_dir():
            return 0
        seen: set[int] = set()
        for part in sorted(folder.glob("part-*.npz")):
            try:
                seen.update(read_npz(part)["subsets"].tolist())
            except (FileNotFoundError, DamagedFile):
                continue
        return len(seen)

    def compact(self, key: str) -> None:
        """Merge the parts of ``key`` into one, under a file lock; unreadable parts are set aside."""
        folder = self.folder(key)
        if folder is None or not folder.is_dir():
            return
        with FileLock(str(folder / ".lock"), timeout=60):
            parts = sorted(folder.glob("part-*.npz"))
            if len(parts) < 2:
                return
            rec = self._records.get(key)
            merged: dict[int, dict] = {}
            used = []
            for part in parts:
                data = self._read_part(part, rec)
                if data is None:
                    continue
                used.append(part)
                for j, s in enumerate(data["subsets"].tolist()):
                    merged[s] = {f: data[f][j] for f in _FIELDS}
            if len(used) < 2:
                return
            order = sorted(merged)
            arrays = {f: np.stack([merged[s][f] for s in order]) for f in _FIELDS}
            write_npz(folder / f"part-{uuid.uuid4().hex}.npz", arrays)
            for part in used:  # only what this merge read and verified
                part.unlink(missing_ok=True)

    def _read_part(self, part: Path, rec: Optional[SolveRecord]) -> Optional[dict]:
        try:
            data = read_npz(part)
            if rec is not None:
                rec.check_part(data)
            return data
        except FileNotFoundError:  # merged or set aside by another process meanwhile
            return None
        except DamagedFile as exc:
            self._set_aside(part, exc)
            return None

    def _load_parts(self, key: str, rec: SolveRecord) -> int:
        folder = self.folder(key)
        if folder is None or not folder.is_dir():
            return 0
        loaded = 0
        for part in sorted(folder.glob("part-*.npz")):
            data = self._read_part(part, rec)
            if data is None:
                continue
            rows = data["subsets"]
            rec.write(rows, torch.from_numpy(data["features"]), data["mse"], data["patch_mse"],
                      data["feasible"], data["iterations"])
            loaded += len(rows)
        return loaded

    def _describe(self, key: str, describe: dict) -> None:
        """A human-readable ``meta.json`` beside the parts (what the key stands for)."""
        path = self.folder(key) / "meta.json"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".meta-{uuid.uuid4().hex}.tmp")
            tmp.write_text(json.dumps(describe, indent=1, sort_keys=True, default=str))
            os.replace(tmp, path)

    @staticmethod
    def _set_aside(path: Path, exc: Exception) -> None:
        aside = path.with_name(path.name + ".corrupt")
        try:
            os.replace(path, aside)
        except FileNotFoundError:  # another process set it aside first
            return
        warnings.warn(f"cache file {path} could not be read ({exc}); moved it to {aside.name} and "
                      "its subsets will be solved again", RuntimeWarning, stacklevel=5)

    # ------------------------------------------------------------------ single tensors
    def load_tensor(self, key: str, shape: tuple) -> Optional[Tensor]:
        """The tensor stored under ``key`` (e.g. the baseline ``b``), or ``None`` if absent or damaged."""
        if self.directory is None:
            return None
        path = self.directory / f"{key}.npz"
        try:
            value = read_npz(path)["value"]
            if value.shape != tuple(shape) or not np.isfinite(value).all():
                raise DamagedFile(f"shape {value.shape} or values do not fit {tuple(shape)}")
        except FileNotFoundError:
            return None
        except (DamagedFile, KeyError) as exc:
            self._set_aside(path, DamagedFile(str(exc)))
            return None
        return torch.from_numpy(value)

    def save_tensor(self, key: str, value: Tensor) -> None:
        if self.directory is not None:
            write_npz(self.directory / f"{key}.npz", {"value": value.detach().cpu().numpy()})


Listener = Callable[[object, list], None]
__all__ = ["DamagedFile", "SolveRecord", "Store", "checksum", "read_npz", "write_npz"]
