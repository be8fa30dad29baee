"""Unprivileged uids held by this process for its scripts, so no other run on the host shares one.

Without a sandbox, as root, each slot's scripts run as a uid of their own, and ending a script
kills every process of that uid (a daemon that left the process tree included). Two runs on one
host that both started from ``execution.script_uid`` (a local sweep, two people's runs, two test
workers) would then kill each other's scripts. So each run claims its uids: an exclusive,
non-blocking ``flock`` on ``<lock dir>/uid-<n>.lock``, held until the claims are released or the
process ends (the kernel drops the lock on any exit, SIGKILL too, so a crashed run leaves nothing
to clean up). A uid some process already runs as is skipped as well: it is somebody's.

The lock folder must be root's and closed to others: an unsandboxed script shares ``/tmp`` with
the host, and a folder it could write would let it steal or squat the next run's uids.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import threading
import weakref
from pathlib import Path

import psutil

from mlmaster.errors import UserError

# /run is root's on every Linux host and container we know; /tmp only where /run is missing.
LOCK_DIRS = (Path("/run/mlmaster/uids"), Path("/tmp/mlmaster-uids"))
SPAN = 4096  # uids tried from the base up before giving up


def default_lock_dir() -> Path:
    return next((d for d in LOCK_DIRS if d.parent.parent.is_dir()), LOCK_DIRS[-1])


class UidClaims:
    """The uids of one run's slots: ``for_slot(i)`` claims one the first time ``i`` asks."""

    def __init__(self, base: int, *, lock_dir: Path | None = None, span: int = SPAN) -> None:
        self.base = base
        self.span = span
        self.lock_dir = lock_dir or default_lock_dir()
        self._held: dict[int, tuple[int, int]] = {}  # slot index -> (uid, locked fd)
        self._lock = threading.Lock()  # slots are prepared from worker threads
        # An executor has no close: its uids go back when it is collected (or the process ends).
        weakref.finalize(self, _close_all, self._held)

    def for_slot(self, index: int) -> int:
        with self._lock:
            if index not in self._held:
                self._held[index] = self._claim_next()
            return self._held[index][0]

    def held(self) -> list[int]:
        with self._lock:
            return sorted(uid for uid, _ in self._held.values())

    def release(self) -> None:
        """Give every uid back (the process's exit does the same)."""
        with self._lock:
            _close_all(self._held)

    def _claim_next(self) -> tuple[int, int]:
        folder = self._folder()
        mine = {uid for uid, _ in self._held.values()}
        busy = _uids_in_use()
        for uid in range(self.base, self.base + self.span):
            if uid in mine or uid in busy:
                continue
            fd = _try_lock(folder / f"uid-{uid}.lock")
            if fd is not None:
                return uid, fd
        raise UserError(
            f"no free script uid in {self.base}..{self.base + self.span - 1}: other runs hold "
            f"them (locks in {folder}) or processes run as them; end those runs, or set "
            "execution.script_uid to another unused range"
        )

    def _folder(self) -> Path:
        folder = self.lock_dir
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700, parents=True)
        info = folder.lstat()
        if (
            not stat.S_ISDIR(info.st_mode)
            or info.st_uid != os.geteuid()
            or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        ):
            raise UserError(
                f"{folder} holds which script uids each run uses, but it is not a folder owned "
                "by this user and closed to others (another user may have made it); remove it "
                "and start again"
            )
        return folder


def _close_all(held: dict[int, tuple[int, int]]) -> None:
    for _, fd in held.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    held.clear()


def _try_lock(path: Path) -> int | None:
    """An open descriptor holding ``path``'s exclusive lock, or None when another holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return None
        raise
    return fd


def _uids_in_use() -> set[int]:
    """The real uids of every process on the host."""
    found = set()
    for proc in psutil.process_iter(["uids"]):
        uids = proc.info["uids"]
        if uids is not None:
            found.add(uids.real)
    return found
