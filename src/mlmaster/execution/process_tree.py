"""Watch and kill a script's whole process tree.

The tree is the script's process, its descendants, and every process ever seen in it (a child
that was orphaned leaves the tree but is still the script's doing). Memory is the sum of the
RSS of the live members, sampled; CPU time is the sum of each member's last sampled user +
system time, so a process born and gone between two samples is missed (short-lived helpers
cost little).

Sampling and stopping run in worker threads, never on the event loop: finding the members
reads every process in ``/proc`` (milliseconds on an idle machine, tens of them on a busy one),
which on the loop would stall every other worker. So the tree's methods take a lock.

Sampling (ten times a second per running script) does not read every process: it follows the
kernel's list of each live member's children (``/proc/<pid>/task/<tid>/children``), which costs
a few files per member instead of one per process on the machine, and is Python work that
would otherwise hold the GIL the event loop needs. That list can miss a child being born at the
instant it is read, which a later sample sees; stopping, which must miss nothing, reads every
process as before.

Killing: the script runs in a session of its own, so its process group reaches every
descendant that did not make a session of its own; members seen outside the group are signalled
one by one as well.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import threading
import time

import anyio
import psutil

from mlmaster.logs import get_logger

log = get_logger(__name__)

_PR_SET_CHILD_SUBREAPER = 36


class ProcessTree:
    def __init__(self, root_pid: int) -> None:
        self.root_pid = root_pid
        self._seen: dict[int, psutil.Process] = {}
        self._cpu: dict[tuple[int, float], float] = {}
        self.peak_rss = 0
        self._lock = threading.Lock()
        with contextlib.suppress(psutil.Error):
            self._remember(psutil.Process(root_pid))

    def _remember(self, proc: psutil.Process) -> None:
        self._seen.setdefault(proc.pid, proc)

    def members(self) -> list[psutil.Process]:
        """Live members, the root's current descendants included."""
        with self._lock:
            return self._members()

    def _members(self, *, scan_all: bool = True) -> list[psutil.Process]:
        """Live members after looking for new descendants: by reading every process (the
        root's descendants), or else by following the live members' children lists."""
        if scan_all or not _CHILDREN_LISTED:
            root = self._seen.get(self.root_pid)
            if root is not None:
                with contextlib.suppress(psutil.Error):
                    for child in root.children(recursive=True):
                        self._remember(child)
        else:
            self._follow_children()
        alive = []
        for proc in self._seen.values():
            with contextlib.suppress(psutil.Error):
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
        return alive

    def _follow_children(self) -> None:
        """Remember every descendant of a live member, from the kernel's children lists."""
        pending = [proc for proc in self._seen.values() if _alive(proc)]
        while pending:
            parent = pending.pop()
            for pid in _children(parent.pid):
                if pid in self._seen:
                    continue
                try:
                    child = psutil.Process(pid)
                    if child.ppid() != parent.pid:
                        continue  # gone, its pid already someone else's
                except psutil.Error:
                    continue
                self._remember(child)
                pending.append(child)

    def sample(self) -> int:
        """Record memory and CPU time of the live members; returns their summed RSS in bytes."""
        total = 0
        with self._lock:
            for proc in self._members(scan_all=False):
                try:
                    with proc.oneshot():
                        total += proc.memory_info().rss
                        times = proc.cpu_times()
                        self._cpu[(proc.pid, proc.create_time())] = times.user + times.system
                except psutil.Error:
                    continue
            self.peak_rss = max(self.peak_rss, total)
        return total

    @property
    def cpu_time(self) -> float:
        with self._lock:
            return sum(self._cpu.values())

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the script's process group and to every live member."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.root_pid, sig)
        for proc in self.members():
            with contextlib.suppress(psutil.Error):
                proc.send_signal(sig)

    def reap_orphans(self) -> None:
        """Collect exit statuses of members that were orphaned onto this process (subreaper).

        Only pids seen in this tree, never the root (the runner reaps that one), so no other
        part's child status is stolen.
        """
        me = os.getpid()
        with self._lock:
            candidates = set(self._seen)
        # Orphans born and gone between two samples: still in the script's process group.
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(me).children():
                with contextlib.suppress(OSError):
                    if os.getpgid(child.pid) == self.root_pid:
                        candidates.add(child.pid)
        for pid in candidates - {self.root_pid}:
            try:
                if psutil.Process(pid).ppid() != me:
                    continue
            except psutil.Error:
                continue
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running()  # the same process: its pid was not reused
    except psutil.Error:
        return False


def _children(pid: int) -> list[int]:
    """The pids of ``pid``'s children, from each of its threads' list (none if it is gone)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as listing:
                found.extend(int(child) for child in listing.read().split())
        except OSError:
            continue  # the thread ended
    return found


# Kernels built without CONFIG_PROC_CHILDREN lack the lists: sampling then reads every process.
_CHILDREN_LISTED = os.path.exists(f"/proc/self/task/{os.getpid()}/children")

_subreaper_set = False


def become_subreaper() -> None:
    """Adopt orphaned descendants instead of handing them to PID 1.

    Without a sandbox's PID namespace, a killed script's grandchildren are re-parented to PID 1;
    in containers whose PID 1 does not reap, they would stay zombies forever. As subreaper this
    process adopts them and :meth:`ProcessTree.reap_orphans` collects them. Linux only; a
    failure is logged and ignored.
    """
    global _subreaper_set
    if _subreaper_set:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
        _subreaper_set = True
    except (OSError, AttributeError) as exc:
        log.warning("subreaper_unavailable", error=str(exc))


async def wait_exit(pid: int) -> None:
    """Return when process ``pid`` has exited (zombie or reaped).

    Not ``Process.wait()``: asyncio's returns only once the pipes close too, and a grandchild
    that inherited them would keep it waiting after the script itself is gone. A pidfd
    becomes readable at exit; where pidfds are missing, poll.
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (OSError, AttributeError):
        while running(pid):  # noqa: ASYNC110 - no pidfd to wait on
            await anyio.sleep(0.05)
        return
    try:
        await anyio.wait_readable(fd)
    finally:
        os.close(fd)


def wait_exit_blocking(pid: int) -> None:
    """:func:`wait_exit` for a worker thread: block until process ``pid`` has exited."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (OSError, AttributeError):
        while running(pid):
            time.sleep(0.05)
        return
    try:
        select.select([fd], [], [])
    finally:
        os.close(fd)


def running(pid: int) -> bool:
    """Whether ``pid`` is alive and not a zombie."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
