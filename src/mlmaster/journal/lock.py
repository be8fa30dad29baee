"""One process per run directory: an exclusive lock held for the whole run.

Two processes on one run (a resume while the original still runs) would number new nodes
alike and interleave the journal. ``run.lock`` is locked with ``flock`` for as long as the run
is open; it says who holds it (pid, host, start time) so the second process can name the
holder. The kernel drops the lock when its holder dies, however it dies, so a lock never
outlives its run and a stale file is simply taken over.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from mlmaster.errors import UserError


class RunDirBusy(UserError):
    """Another process holds the run directory."""


class RunLock:
    """The held lock on a run directory; release it (or leave the ``with``) when the run ends."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, path: Path) -> RunLock:
        """Lock ``path`` (the run's lock file) or raise :class:`RunDirBusy` naming the holder."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise UserError(
                f"cannot lock the run directory {path.parent}: {error.strerror or error}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe_holder(fd)
            os.close(fd)
            raise RunDirBusy(
                f"{path.parent} is in use by {holder}; wait for that run to end "
                "(or stop it) before resuming it"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        # Ours now: say who holds it, replacing whatever an earlier holder wrote.
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(me) + "\n").encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing drops the flock
            self._fd = -1

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _describe_holder(fd: int) -> str:
    """ "process 123 on host-a (since 2026-01-01T10:00:00Z)", or less when the file says less."""
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict) or "pid" not in data:
        return "another process (it has not written its name yet)"
    text = f"process {data['pid']}"
    if data.get("host"):
        text += f" on {data['host']}"
    if data.get("started"):
        text += f" (since {data['started']})"
    return text
