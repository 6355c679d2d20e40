"""Two OS users on one cache folder (issue 18, point 2): parts are written with the umask and the
folder's group, each user reads the other's parts and loses nothing; a part one user may not read
is skipped and left in place, never moved aside as damaged.  Needs root (to switch uids).
"""
from __future__ import annotations

import encodings.cp437  # noqa: F401 - zipfile needs it; a child under another uid cannot import from /root
import os
import shutil
import stat
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from prsg_widgets.backend.persistence.store import Store
from prsg_widgets.core.solver import SolveResult

N, D = 3, 4
OTHER_UID, SHARED_GID = 12345, 12345

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or os.geteuid() != 0, reason="switching uids needs root")


def _result(rows: list[int]) -> SolveResult:
    k = len(rows)
    member = (torch.as_tensor(rows, dtype=torch.long).unsqueeze(1) >> torch.arange(N)) & 1 == 1
    pmse = torch.where(member, torch.zeros(k, N), torch.full((k, N), float("nan")))
    return SolveResult(torch.as_tensor(rows, dtype=torch.long),
                       torch.arange(k * D, dtype=torch.float32).reshape(k, D) + 1,
                       torch.zeros(k), pmse, torch.zeros(k), torch.ones(k, dtype=torch.bool),
                       torch.full((k,), 3), torch.zeros(k))


def _as_user(uid: int, umask: int, rows: list[int], directory: str) -> tuple[int, list[int]]:
    """In a child process running as ``uid`` (group :data:`SHARED_GID`): read the cache, add
    ``rows``, merge.  Returns the child's exit code and the rows it saw before writing.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(read)
            os.setgroups([SHARED_GID])
            os.setgid(SHARED_GID)
            if uid:
                os.setuid(uid)
            os.umask(umask)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                store = Store(directory)
                rec = store.record("k", N, D)
                seen = np.flatnonzero(rec.solved).tolist()
                store.put("k", _result(rows), rec)
                store.flush("k")
                store.compact("k")
            os.write(write, ",".join(map(str, seen)).encode())
            code = 0
        except BaseException:  # noqa: BLE001 - reported by the parent's assertion
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(write)
    data = os.read(read, 4096).decode()
    os.close(read)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), [int(x) for x in data.split(",") if x]


@pytest.fixture
def shared():
    top = Path(tempfile.mkdtemp(prefix="prsg-shared-"))  # not under pytest's 0700 folder
    os.chmod(top, 0o755)
    folder = top / "cache"
    folder.mkdir()
    os.chown(folder, 0, SHARED_GID)
    os.chmod(folder, 0o2775)  # group-writable, setgid: the usual shared cache
    yield folder
    shutil.rmtree(top, ignore_errors=True)


def test_two_users_share_one_cache_and_lose_nothing(shared):
    rc, seen = _as_user(0, 0o002, [1, 2, 3], str(shared))
    assert rc == 0 and seen == []
    parts = list((shared / "k").glob("part-*.npz"))
    assert parts and all(p.stat().st_mode & 0o777 == 0o664 for p in parts)  # the umask's mode, not 0600
    assert all(p.stat().st_gid == SHARED_GID for p in parts)                 # the folder's group
    rc, seen = _as_user(OTHER_UID, 0o002, [4, 5, 6, 7], str(shared))
    assert rc == 0 and seen == [1, 2, 3]                                     # the other user's work is read
    rc, seen = _as_user(0, 0o002, [], str(shared))
    assert rc == 0 and seen == [1, 2, 3, 4, 5, 6, 7]                         # and nothing is lost
    assert not list((shared / "k").glob("*.corrupt"))


def test_a_part_another_user_may_not_read_is_skipped_and_kept(shared):
    (shared / "k").mkdir(mode=0o2775)  # the key's folder from an earlier run; then a careless umask:
    os.chmod(shared / "k", 0o2775)
    rc, _ = _as_user(0, 0o077, [1, 2], str(shared))  # 0600 parts
    assert rc == 0
    private = list((shared / "k").glob("part-*.npz"))
    assert private and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in private)
    rc, seen = _as_user(OTHER_UID, 0o002, [4], str(shared))
    assert rc == 0 and seen == []                                            # could not read: not "damaged"
    assert all(p.exists() for p in private) and not list((shared / "k").glob("*.corrupt"))
    rec = Store(shared).record("k", N, D)                                    # the owner still has everything
    assert np.flatnonzero(rec.solved).tolist() == [1, 2, 4]
