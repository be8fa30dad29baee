"""No sandbox: the script runs on the host, with the network and every file its user can read.

Two things still hold. When mlmaster runs as root, the script does not: it is started as an
unprivileged uid and gid with no supplementary group (set in the child before it executes), so
it cannot read the orchestrator's environment (``/proc/<pid>/environ``, where the LLM keys are)
or any file only root may read; its workspace is handed to that user, and the competition's
private folder beside the public one is made readable by its owner only. Each slot has a uid
of its own (``execution.script_uid`` plus the slot's index): a script cannot enter another
slot's workspace, and since nothing else runs as that uid, every process of it is killed when
the script ends, also a daemon that escaped the process tree. When mlmaster runs as
an ordinary user, the script shares that user; the orchestrator then marks itself not dumpable,
which makes its ``/proc/<pid>/environ`` unreadable to its own user's other processes.

The script's command is never wrapped and nothing new is mounted.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import stat
import subprocess
from collections.abc import Sequence
from pathlib import Path

import psutil

from mlmaster.errors import UserError
from mlmaster.execution.process_tree import ProcessTree, become_subreaper
from mlmaster.execution.sandbox import (
    Launch,
    SandboxContext,
    SandboxInfo,
    register_sandbox,
    running_as_root,
)
from mlmaster.execution.topology import SlotSpec
from mlmaster.execution.workspace import Workspace
from mlmaster.logs import get_logger

log = get_logger(__name__)

_PR_SET_DUMPABLE = 4

# Run as the script's user: every folder given must be listable, else its path is printed.
_REACH = (
    "import os,sys\n"
    "for p in sys.argv[1:]:\n"
    "    try: os.listdir(p)\n"
    "    except OSError: print(p); sys.exit(1)\n"
)


class Unsandboxed:
    def __init__(self, context: SandboxContext, *, switch_user: bool) -> None:
        self.context = context
        self.switch_user = switch_user
        self._reached: set[tuple[Path, Path, int]] = set()
        common = [
            "the network",
            "every file its user may read (world-readable files anywhere on the host)",
            "the public data's folder, writable if its user may write there",
        ]
        if switch_user:
            user = (
                f"uid {context.uid} + the slot's index, gid {context.gid} "
                "(mlmaster runs as root; the script does not)"
            )
            exposes = common
        else:
            user = f"mlmaster's own user (uid {os.geteuid()})"
            exposes = [
                *common,
                "every file mlmaster's user may read or write: the run directory, settings "
                "files, the private answers unless kept from that user",
                "the environment of that user's other processes (the shell that started "
                "mlmaster, with any key exported there)",
            ]
        self.info = SandboxInfo(name="none", confined=False, user=user, exposes=exposes)

    def uid(self, slot: SlotSpec) -> int:
        """The uid scripts on ``slot`` run as (mlmaster as root)."""
        return self.context.uid + slot.index

    def prepare(self, workspace: Workspace, slot: SlotSpec) -> None:
        if not self.switch_user:
            return
        uid = self.uid(slot)
        workspace.hand_over(uid, self.context.gid)
        key = (workspace.public_dir, workspace.root.parent.parent, uid)
        if key not in self._reached:
            for public in (workspace.public_dir, *workspace.also_readable):
                _restrict_private(public)
            readable = [workspace.public_dir, *workspace.also_readable, workspace.root]
            self.check_reach(readable, uid)
            self._reached.add(key)

    def wrap(self, argv: Sequence[str], workspace: Workspace, slot: SlotSpec) -> Launch:
        if self.switch_user:
            return Launch(list(argv), uid=self.uid(slot), gid=self.context.gid)
        return Launch(list(argv))

    def watch(self, pid: int, slot: SlotSpec) -> ProcessTree:
        if self.switch_user:
            return UserTree(pid, self.uid(slot))
        return ProcessTree(pid)

    def check_reach(self, folders: Sequence[Path], uid: int) -> None:
        """Fail with what to do when ``uid`` cannot start the scripts' Python or list a folder."""
        cmd = [str(self.context.python), "-I", "-S", "-c", _REACH, *map(str, folders)]
        try:
            done = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                cwd="/",
                user=uid,
                group=self.context.gid,
                extra_groups=[],
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise UserError(
                f"scripts run as uid {uid} without a sandbox (mlmaster runs as "
                f"root) but cannot start {self.context.python} as that user ({exc}); install "
                "bubblewrap, or install the scripts' Python where every user can read it"
            ) from exc
        if done.returncode != 0:
            where = done.stdout.strip() or done.stderr.strip()[-300:]
            raise UserError(
                f"scripts run as uid {uid} without a sandbox (mlmaster runs as "
                f"root) but that user cannot reach {where}; make the folders above it "
                "searchable by others (chmod o+x), or install bubblewrap"
            )


class UserTree(ProcessTree):
    """The script's tree, and every other process of its uid (nothing else runs as that uid).

    A script can leave the tree: a double fork between two samples, a new session, and the
    daemon is nobody's descendant any more. It keeps its uid, so it is still found and killed.
    """

    def __init__(self, root_pid: int, uid: int) -> None:
        super().__init__(root_pid)
        self.uid = uid

    def members(self) -> list[psutil.Process]:
        found = super().members()
        known = {proc.pid for proc in found}
        for proc in psutil.process_iter(["uids"]):
            uids = proc.info["uids"]
            if uids is None or uids.real != self.uid or proc.pid in known:
                continue
            with contextlib.suppress(psutil.Error):
                if proc.status() != psutil.STATUS_ZOMBIE:
                    found.append(proc)
            with self._lock:
                self._seen.setdefault(proc.pid, proc)  # reaped once dead (it may be our orphan)
        return found


def _restrict_private(public_dir: Path) -> None:
    """Make the private answers beside ``public_dir`` readable by their owner only."""
    private = public_dir.parent / "private"
    try:
        info = private.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISDIR(info.st_mode) and info.st_mode & 0o077:
        private.chmod(stat.S_IMODE(info.st_mode) & 0o700)
        log.info("private_data_restricted", path=str(private))


def _not_dumpable() -> None:
    """Keep this process's /proc files (its environment above all) from its own user."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")
    except (OSError, AttributeError) as exc:
        log.warning("not_dumpable_failed", error=str(exc))


def create(context: SandboxContext) -> Unsandboxed:
    # Without a PID namespace a killed script's grandchildren are re-parented: adopt them.
    become_subreaper()
    switch_user = running_as_root()
    if not switch_user:
        _not_dumpable()
    sandbox = Unsandboxed(context, switch_user=switch_user)
    if switch_user:
        # Before any run: a scripts' Python the script's uid cannot start (one under /root, say)
        # would otherwise fail every node. The data and workspace are checked at the first run.
        sandbox.check_reach([], context.uid)
    return sandbox


register_sandbox("none", create)
