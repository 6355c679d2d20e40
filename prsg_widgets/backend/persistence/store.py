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

import errno
import json
import logging
import os
import threading
import uuid
import warnings
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from filelock import FileLock
from torch import Tensor

from ...core.solver import SolveResult
from ...core.solver.rows import KEPT
from .filecheck import PART_FIELDS, PartContext, check_part
from .files import DamagedFile, checksum, make_dirs, read_npz, write_npz, write_text

FORMAT = 3
"""Version of the part format (part of every cache key).  3: every part names its key."""

_FIELDS = PART_FIELDS


def record_bytes(n: int, d: int) -> int:
    """Memory an explanation of ``n`` patches and a feature of ``d`` elements holds once solved: the
    ``2^n`` minimal features and the ``2^n`` components (float32), plus the per-subset facts.
    """
    return (1 << n) * (2 * 4 * d + 8 * n + 32)


def available_memory() -> int | None:
    """Bytes the system can still give this process (Linux's ``MemAvailable``), ``None`` elsewhere."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(n: int, d: int) -> None:
    """A :class:`~prsg_widgets.core.grid.TooManyPatchesError` naming ``n`` and the figure when an
    explanation would not fit in the memory available now (n = 20 on a 16,384-element feature
    needs 137 GB: refused here, where torch would fail with "can't allocate 34359738368 bytes").
    """
    from ...core.grid import TooManyPatchesError

    need, have = record_bytes(n, d), available_memory()
    if have is not None and need > have:
        raise TooManyPatchesError(
            f"n = {n} patches need 2^{n} = {1 << n:,} minimal features and as many components of "
            f"d = {d:,} elements: {need / 1e9:,.1f} GB, and {have / 1e9:,.1f} GB of memory is available. "
            "Choose fewer patches, or a smaller (cheaper) layer")


@dataclass
class SolveRecord:
    """The solved rows of one explanation: ``features`` ``(2^n, d)`` and the other kept fields of
    the row schema (:data:`~prsg_widgets.core.solver.rows.KEPT`), one column each.

    Rows are written only through :meth:`write` (by :meth:`Store.put`, under ``lock``); readers
    get copies or read-only views.  ``listeners`` are called with the new rows after each write;
    ``revision`` counts the writes and ``forgotten`` the rows taken back, so what is derived from
    the rows (an explanation's components and norms) knows when to be computed again.
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
    revision: int = field(init=False, default=0)  # writes and forgets so far
    forgotten: int = field(init=False, default=0)  # forgets so far
    context: PartContext | None = field(init=False, default=None)  # f, b, ε: what loaded rows must fit
    _columns: dict[str, np.ndarray] = field(init=False, repr=False)
    origins: dict = field(init=False, default_factory=dict)  # part path → rows read before a context was known

    def __post_init__(self) -> None:
        check_memory(self.n, self.d)  # refuse with the figure, before a raw allocator error
        size = 1 << self.n
        self.solved = np.zeros(size, dtype=bool)
        self._columns = {f.name: f.empty(size, self.n, self.d) for f in KEPT}
        for name, column in self._columns.items():
            setattr(self, name, column)
        self.features = torch.from_numpy(self._columns["features"])  # the same memory, read as a tensor

    def write(self, rows: np.ndarray, values: Mapping[str, Any]) -> None:
        """Store solved ``rows`` (subset bitmasks) with ``values[name]`` for every kept field
        (arrays or tensors: a cache part, a saved file, a :class:`SolveResult`'s fields).
        """
        rows = np.asarray(rows, dtype=np.int64)
        with self.lock:
            for name, column in self._columns.items():
                column[rows] = _numpy(values[name])
            self.solved[rows] = True
            self.revision += 1

    def write_exact(self, rows: np.ndarray, features: Tensor) -> None:
        """Store ``rows`` known without solving (``f_∅ = b``, closed forms): feasible, mse 0, no
        per-patch mse, no iterations.
        """
        k = len(rows)
        values: dict[str, Any] = {f.name: f.empty(k, self.n, self.d) for f in KEPT}
        values.update(features=features, mse=np.zeros(k), feasible=np.ones(k, dtype=bool))
        self.write(rows, values)

    def arrays(self, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The solved rows (default: all solved) as a cache part's arrays."""
        with self.lock:
            rows = np.flatnonzero(self.solved) if rows is None else np.asarray(rows, dtype=np.int64)
            return {"subsets": rows.astype(np.int64), **{name: c[rows].copy() for name, c in self._columns.items()}}

    def forget(self, rows: np.ndarray) -> None:
        """Mark ``rows`` unsolved again (rows read from a file that failed a later check)."""
        with self.lock:
            for f in KEPT:
                self._columns[f.name][rows] = f.fill
            self.solved[rows] = False
            self.revision += 1
            self.forgotten += 1


def _numpy(value: Any) -> Any:
    """``value`` as numpy when it is a tensor (on the CPU; bfloat16, which numpy lacks, as float32)."""
    if not isinstance(value, Tensor):
        return value
    value = value.detach().cpu()
    return (value.float() if value.dtype == torch.bfloat16 else value).numpy()


class Store:
    """Solve results by explanation key, in memory and optionally in ``directory``.

    ``record(key, n, d)`` returns the shared in-memory record of a key, filled from disk the first
    time.  ``put`` stores rows; ``flush`` writes what is not on disk yet as one part; ``compact``
    merges a key's parts into one.  A record stays in memory while any explanation holds it, and
    the ``max_records`` most recent ones stay even when none does.
    """

    def __init__(self, directory: str | Path | None = None, max_records: int = 64) -> None:
        self.directory = Path(directory).expanduser() if directory is not None else None
        if self.directory is not None:
            if self.directory.exists() and not self.directory.is_dir():
                raise ValueError(f"cache directory {self.directory} is a file; give a folder")
            make_dirs(self.directory)
            if not os.access(self.directory, os.W_OK):
                raise ValueError(f"cache directory {self.directory} is not writable; choose another")
        self.max_records = max_records
        self._records: weakref.WeakValueDictionary[str, SolveRecord] = weakref.WeakValueDictionary()
        self._recent: dict[str, SolveRecord] = {}  # strong references, most recent last
        self._unsaved: dict[str, tuple[SolveRecord, set[int]]] = {}  # rows not on disk yet
        self._lock = threading.RLock()
        self._unreadable: set[str] = set()  # files already reported as unreadable (warned once)
        self._unverified: dict[str, tuple[Path, Tensor]] = {}  # tensors read from disk, not yet checked

    # ------------------------------------------------------------------ memory
    def record(self, key: str, n: int, d: int, describe: dict | None = None) -> SolveRecord:
        """The record of ``key`` (created, and loaded from disk, on first use)."""
        with self._lock:
            rec = self._records.get(key)
            if rec is None or rec.n != n or rec.d != d:
                rec = SolveRecord(n, d)
                if self.directory is not None:
                    self._load_parts(key, rec)
                    if describe is not None:
                        self._describe(key, describe)
                    if not rec.solved[1:].all():  # row 0 (f_∅ = b) is never solved nor saved
                        self._check_writable(key)
                self._records[key] = rec
            self._recent.pop(key, None)
            self._recent[key] = rec
            while len(self._recent) > self.max_records:
                del self._recent[next(iter(self._recent))]
            return rec

    def put(self, key: str, result: SolveResult, record: SolveRecord | None = None) -> list[int]:
        """Store a solver result's rows in ``record`` (default: the record of ``key``); returns
        them.  Disk follows at the next :meth:`flush`.
        """
        rec = record if record is not None else self._records[key]
        rows = result.subsets.cpu().numpy().astype(np.int64)
        rec.write(rows, {f.name: getattr(result, f.name) for f in KEPT})
        with self._lock:
            self._unsaved.setdefault(key, (rec, set()))[1].update(rows.tolist())
        return rows.tolist()

    @staticmethod
    def notify(record: SolveRecord, owner, rows: list[int]) -> None:
        """Tell the record's listeners that ``rows`` landed (``callback(owner, rows)``).  A
        listener that raises is logged and skipped: a broken view must not stop a solve.
        """
        for cb in list(record.listeners):
            try:
                cb(owner, rows)
            except Exception:  # noqa: BLE001 - any error of a listener
                logging.getLogger("prsg_widgets").exception("a listener of %s failed", owner)

    # ------------------------------------------------------------------ disk
    def folder(self, key: str) -> Path | None:
        """The folder of ``key``'s parts (``None`` for a store in memory only)."""
        return None if self.directory is None else self.directory / key

    def flush(self, key: str) -> int:
        """Write the rows of ``key`` not yet on disk as one new part; returns how many."""
        with self._lock:
            rec, pending = self._unsaved.pop(key, (None, set()))
        rows = sorted(pending)
        if rec is None or not rows or self.directory is None:
            return 0
        try:
            write_npz(self.directory / key / f"part-{uuid.uuid4().hex}.npz", {**rec.arrays(np.asarray(rows)),
                                                                          "key": np.asarray(key)})
        except BaseException:
            with self._lock:  # not on disk: try again at the next flush
                self._unsaved.setdefault(key, (rec, set()))[1].update(rows)
            raise
        return len(rows)

    def verify(self, key: str, record: SolveRecord, context: PartContext) -> None:
        """Give ``record`` (of ``key``) the context its rows must fit (``f``, ``b``, ε; see
        :class:`~prsg_widgets.backend.persistence.filecheck.PartContext`) and check the rows already read
        from disk against it: a part that fails is set aside and its rows are read again from
        the other parts (or solved again).  Later reads check each part against it at once.
        """
        with record.lock:
            if record.context is None:
                record.context = context
            origins, record.origins = record.origins, {}
        failed = []
        for path, rows in origins.items():
            try:
                check_part({**record.arrays(rows), "key": np.asarray(key)}, record.n, record.d, key, record.context)
            except DamagedFile as exc:
                failed.append((Path(path), exc))
        if failed:
            for path, err in failed:
                self._set_aside(path, err)
            for rows in origins.values():
                record.forget(rows)
            self.reload(key, record)

    def reload(self, key: str, record: SolveRecord | None = None) -> int:
        """Read the parts of ``key`` that other processes wrote since into ``record`` (default: the
        key's own record), under the folder's lock, so a merge by another process (it writes the
        merged part, then deletes the ones it read) is never seen half-done.  Rows are write-once,
        so reading one again changes nothing.  Returns how many rows were read.  Without the right
        to take the lock (another user's folder), the parts are read without it.
        """
        folder = self.folder(key)
        if folder is None or not folder.is_dir():
            return 0
        rec = record if record is not None else self._records[key]
        try:
            lock = FileLock(str(folder / ".lock"), timeout=120)
            lock.acquire()
        except PermissionError:
            return self._load_parts(key, rec)
        try:
            return self._load_parts(key, rec)
        finally:
            lock.release()

    def on_disk(self, key: str) -> int:
        """How many distinct subsets of ``key`` readable, verified parts on disk hold (reads them)."""
        folder = self.folder(key)
        if folder is None or not folder.is_dir():
            return 0
        seen: set[int] = set()
        for part in sorted(folder.glob("part-*.npz")):
            try:
                seen.update(read_npz(part)["subsets"].tolist())
            except (OSError, DamagedFile, KeyError):
                continue
        return len(seen)

    def compact(self, key: str) -> None:
        """Merge the parts of ``key`` into one, under a file lock; damaged parts are set aside,
        unreadable ones (another user's) left alone.  Merging only saves space: when the folder
        cannot be locked or written, the parts stay as they are.
        """
        folder = self.folder(key)
        if folder is None or not folder.is_dir():
            return
        try:
            with FileLock(str(folder / ".lock"), timeout=60):
                self._merge(key, folder)
        except OSError as exc:  # a full disk or another user's folder: nothing is lost
            logging.getLogger("prsg_widgets").info("cache parts of %s not merged: %s", folder, exc)

    def _merge(self, key: str, folder: Path) -> None:
        parts = sorted(folder.glob("part-*.npz"))
        if len(parts) < 2:
            return
        rec = self._records.get(key)
        merged: dict[int, dict] = {}
        used = []
        for part in parts:
            data = self._read_part(key, part, rec)
            if data is None:
                continue
            used.append(part)
            for j, s in enumerate(data["subsets"].tolist()):
                merged[s] = {f: data[f][j] for f in _FIELDS}
        if len(used) < 2:
            return
        order = sorted(merged)
        arrays = {f: np.stack([merged[s][f] for s in order]) for f in _FIELDS}
        write_npz(folder / f"part-{uuid.uuid4().hex}.npz", {**arrays, "key": np.asarray(key)})
        for part in used:  # only what this merge read and verified
            try:
                part.unlink(missing_ok=True)
            except PermissionError:  # another user's part in a folder we may not change: keep it
                pass

    def _read_part(self, key: str, part: Path, rec: SolveRecord | None) -> dict | None:
        """A part's arrays once every field checks out; ``None`` (and the part set aside) when it
        is damaged, ``None`` (the part left in place) when it cannot be read or vanished.
        """
        try:
            data = read_npz(part)
            if rec is not None:
                check_part(data, rec.n, rec.d, key, rec.context or self._context(key))
            return data
        except FileNotFoundError:  # merged or set aside by another process meanwhile
            return None
        except OSError as exc:  # permission denied or an I/O error: not ours to judge, keep it
            self._warn_unreadable(part, exc)
            return None
        except Exception as exc:  # noqa: BLE001 - any other failure means the file is damaged
            self._set_aside(part, exc)
            return None

    def _context(self, key: str) -> PartContext | None:
        own = self._records.get(key)
        return None if own is None else own.context

    def _load_parts(self, key: str, rec: SolveRecord) -> int:
        folder = self.folder(key)
        if folder is None or not folder.is_dir():
            return 0
        loaded = 0
        for part in sorted(folder.glob("part-*.npz")):
            data = self._read_part(key, part, rec)
            if data is None:
                continue
            rows = data["subsets"]
            rec.write(rows, data)
            if (rec.context or self._context(key)) is None:  # checked against f and b by verify()
                rec.origins[str(part)] = rows
            loaded += len(rows)
        return loaded

    def _check_writable(self, key: str) -> None:
        """Refuse, before any solve, a key folder this process cannot write to (another user's, a
        read-only mount): otherwise the solve runs until its first save and stops there.  A complete
        explanation needs no write, so a read-only cache still serves what it holds.
        """
        if self.directory is None:
            return
        folder = self.directory / key
        probe = folder / f".prsg-probe-{uuid.uuid4().hex}"
        try:
            write_text(probe, "probe")
            probe.unlink()
        except OSError as exc:
            raise PermissionError(
                errno.EACCES, f"the solve cache folder {folder} cannot be written ({exc.strerror or exc}); "
                "what is missing could be solved but not saved there: give another cache_dir (--cache-dir), or "
                "ask the folder's owner to make it group-writable (chmod -R g+w, see the README's Files)",
                str(folder)) from None

    def _describe(self, key: str, describe: dict) -> None:
        """A human-readable ``meta.json`` beside the parts (what the key stands for)."""
        if self.directory is None:
            return
        path = self.directory / key / "meta.json"
        if not path.exists():
            try:
                write_text(path, json.dumps(describe, indent=1, sort_keys=True, default=str))
            except PermissionError:  # another user's key folder: the description is only for people
                pass

    def _warn_unreadable(self, path: Path, exc: OSError) -> None:
        if str(path) in self._unreadable:
            return
        self._unreadable.add(str(path))
        reason = exc.strerror or type(exc).__name__
        warnings.warn(f"cache file {path} cannot be read ({reason}); left in place and skipped, its subsets "
                      "are solved again here (ask its owner to make the cache group-readable: chmod -R g+rX)",
                      RuntimeWarning, stacklevel=5)

    @staticmethod
    def _set_aside(path: Path, exc: Exception, then: str = "its subsets will be solved again") -> None:
        aside = path.with_name(path.name + ".corrupt")
        try:
            os.replace(path, aside)
        except FileNotFoundError:  # another process set it aside first
            return
        except OSError as err:  # may not rename it (another user's folder): leave it, say so
            warnings.warn(f"cache file {path} is damaged ({' '.join(str(exc).split())}) and could not be moved "
                          f"aside ({err.strerror}); it is skipped", RuntimeWarning, stacklevel=5)
            return
        detail = " ".join(str(exc).replace(str(path), "the file").split())
        warnings.warn(f"cache file {path} could not be read ({detail}); moved it to {aside.name} and "
                      f"{then}", RuntimeWarning, stacklevel=5)

    # ------------------------------------------------------------------ single tensors
    def load_tensor(self, key: str, shape: tuple) -> Tensor | None:
        """The tensor stored under ``key`` (e.g. the baseline ``b``), or ``None`` if absent,
        damaged (set aside) or unreadable (left in place).
        """
        if self.directory is None:
            return None
        path = self.directory / f"{key}.npz"
        try:
            data = read_npz(path)
            value = data.get("value")
            if value is None or value.dtype.kind != "f" or value.shape != tuple(shape) or not np.isfinite(value).all():
                raise DamagedFile(f"field 'value' is missing, not finite or not of shape {tuple(shape)}")
            if set(data) - {"value", "key"} or ("key" in data and str(data["key"]) != key):
                raise DamagedFile("field 'key' names another file, or the file has extra fields")
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._warn_unreadable(path, exc)
            return None
        except DamagedFile as exc:
            self._set_aside(path, exc, "it will be computed again")
            return None
        tensor = torch.from_numpy(value.astype(np.float32, copy=False))
        self._unverified[key] = (path, tensor)
        return tensor

    def verify_tensors(self, check: Callable[[Tensor], None]) -> None:
        """Run ``check(value)`` once on each tensor read from disk since; one that fails it
        (:class:`DamagedFile`) is set aside and a one-line ``ValueError`` asks to start again.
        """
        with self._lock:
            pending, self._unverified = self._unverified, {}
        for path, value in pending.values():
            try:
                check(value)
            except DamagedFile as exc:
                self._set_aside(path, exc, "it will be computed again")
                raise ValueError(f"the cached {path} does not fit the model ({exc}); it was set aside: "
                                 "make the Explainer again to recompute it") from None

    def save_tensor(self, key: str, value: Tensor) -> None:
        """Store ``value`` under ``key`` (a no-op without a directory; an unwritable one is skipped:
        the value is only a cache).
        """
        if self.directory is not None:
            try:
                write_npz(self.directory / f"{key}.npz",
                          {"value": value.detach().cpu().numpy(), "key": np.asarray(key)})
            except PermissionError:
                pass


Listener = Callable[[object, list], None]
__all__ = ["DamagedFile", "SolveRecord", "Store", "checksum", "read_npz", "write_npz"]
