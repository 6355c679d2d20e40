"""Reading and writing the package's checksummed ``.npz`` files, safely on shared folders.

* :func:`write_npz` writes atomically (temporary file, then ``os.replace``) with the permissions
  an ordinary ``open`` would give — the process umask, and the folder's group — so a cache folder
  shared by several users (a cluster's file system) stays readable by all of them.  A write that
  fails (a full disk) names the file.
* :func:`read_npz` refuses what is not a regular file *before* opening it (a FIFO would block),
  tells a file it may not read (:class:`PermissionError`, left alone by callers) from a damaged one
  (:class:`DamagedFile`, set aside by callers), verifies the checksum and never leaves a file open.

The checksum is an unkeyed SHA-256: it catches accidents (flipped bytes, truncation), not edits;
what a file holds is validated separately (:mod:`prsg_widgets.backend.persistence.filecheck`).
"""
from __future__ import annotations

import errno
import hashlib
import os
import stat
import struct
import uuid
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ...core.errors import CacheFileError

__all__ = ["DamagedFile", "checksum", "read_npz", "write_npz", "write_text", "make_dirs"]


class DamagedFile(CacheFileError):
    """A file that cannot be parsed, fails its checksum, or holds impossible values."""


_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, struct.error, UnicodeDecodeError,
           NotImplementedError, OverflowError, MemoryError)
"""What reading a damaged file raises (a ``MemoryError``: a header claiming an absurd shape)."""


def checksum(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of ``arrays`` (sorted by name)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _share_group(path: Path, folder: Path) -> None:
    """Give ``path`` the group of ``folder`` when it differs and we may (a member of it)."""
    try:
        want = folder.stat().st_gid
        if path.stat().st_gid != want:
            os.chown(path, -1, want)
    except OSError:  # not a member of that group, or a file system without groups: keep ours
        pass


def make_dirs(folder: Path) -> None:
    """``mkdir -p`` with the umask's mode; new folders get the parent's group (as setgid would)."""
    missing = []
    probe = folder
    while not probe.exists() and probe.parent != probe:
        missing.append(probe)
        probe = probe.parent
    folder.mkdir(parents=True, exist_ok=True)
    for new in reversed(missing):
        _share_group(new, new.parent)


def _write_error(exc: OSError, path: Path) -> OSError:
    """``exc`` again, naming ``path`` and what to do (a full disk's ``[Errno 28]`` alone says neither)."""
    hint = {errno.ENOSPC: "the disk is full: free some space or choose another folder",
            errno.EDQUOT: "your disk quota is exceeded: free some space or choose another folder",
            errno.EACCES: "permission denied: choose a folder you can write to",
            errno.EROFS: "the file system is read-only: choose another folder"}.get(exc.errno or 0,
                                                                                 exc.strerror or str(exc))
    err = type(exc)(exc.errno, f"cannot write {path} ({hint})")
    err.filename = str(path)
    return err


def _atomic_write(path: Path, write) -> Path:
    """Create ``path`` atomically: ``write(fh)`` into a new file beside it, then rename."""
    path = Path(path)
    try:
        make_dirs(path.parent)
    except OSError as exc:
        raise _write_error(exc, path) from None
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        # os.open with 0o666: the kernel applies the umask (and a default ACL), unlike mkstemp's 0600
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        _share_group(tmp, path.parent)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # never created (a folder we may not enter): nothing to clean
            pass
        if isinstance(exc, OSError):
            raise _write_error(exc, path) from None
        raise
    return path


def write_npz(path: Path, arrays: dict[str, np.ndarray], compressed: bool = False) -> Path:
    """Write ``arrays`` plus their ``checksum`` atomically to ``path`` (umask permissions, the
    folder's group); an ``OSError`` names the file.
    """
    arrays = dict(arrays)
    arrays["checksum"] = np.asarray(checksum(arrays))
    save = np.savez_compressed if compressed else np.savez
    # numpy's stub lets ``**arrays`` reach the ``allow_pickle: bool`` keyword; no array is named so
    return _atomic_write(Path(path), lambda fh: save(fh, **arrays))  # type: ignore[arg-type]


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically to ``path``, with the same permissions as :func:`write_npz`."""
    return _atomic_write(Path(path), lambda fh: fh.write(text.encode()))


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` atomically to ``path`` (a link at ``path`` is replaced, never written through)."""
    return _atomic_write(Path(path), lambda fh: fh.write(data))


def figure_bytes(fig, **savefig) -> bytes:
    """A matplotlib figure rendered to bytes (then written with :func:`write_bytes`)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, **savefig)
    return buf.getvalue()


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """All arrays of a file written by :func:`write_npz`, after checking its checksum.

    Raises :class:`FileNotFoundError` when absent, :class:`PermissionError` when it may not be
    read (not damaged: leave it alone) and :class:`DamagedFile` (a ``ValueError``) when it is not
    a regular file, truncated, altered or not an npz at all.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist") from None
    if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
        raise DamagedFile(f"{path} is not a regular file")
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist") from None
    except PermissionError:
        raise PermissionError(errno.EACCES, f"cannot read {path} (permission denied)", str(path)) from None
    with fh:
        try:
            with np.load(fh, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except _DAMAGE as exc:  # what a bad file's bytes can cause: truncation, bad zip, bad header, pickle
            detail = " ".join(str(exc).split())[:200]
            if "pickle" in detail.lower():
                # numpy's own text advises allow_pickle=True: advice never to follow on an untrusted file
                detail = ("not an archive of plain arrays: reading it would take unpickling Python objects, "
                          "which a prsg file never needs")
            raise DamagedFile(f"{path} is damaged or not a prsg file ({type(exc).__name__}: {detail})") from None
        except Exception as exc:  # noqa: BLE001 - the environment failed (an I/O error, a missing codec)
            raise OSError(errno.EIO, f"cannot read {path} ({type(exc).__name__}: {exc})", str(path)) from None
    stored = arrays.pop("checksum", None)
    if stored is None:
        raise DamagedFile(f"{path} has no checksum (written by an older prsg_widgets)")
    if stored.dtype.kind != "U" or stored.shape != () or str(stored) != checksum(arrays):
        raise DamagedFile(f"{path} fails its checksum (the file was altered or truncated)")
    return arrays
