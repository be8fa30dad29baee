"""No sandbox: the script runs on the host, with the network and every file its user can read.

Two things still hold. When mlmaster runs as root, the script does not: it is started as an
unprivileged uid and gid with no supplementary group (set in the child before it executes), so
it cannot read the orchestrator's environment (``/proc/<pid>/environ``, where the LLM keys are)
or any file only root may read; its workspace is handed to that user, and the competition's
private folder beside the public one is made readable by its owner only. Each slot has a uid
of its own, claimed from ``execution.script_uid`` up so that no other run on the host uses it
(``uid_claims``): a script cannot enter another slot's workspace, and since nothing else runs as
that uid, every process of it is killed when the script ends, also a daemon that escaped the
process tree. When mlmaster runs as
an ordinary user, the script shares that user; the orchestrator then marks itself not dumpable,
which makes its ``/proc/<pid>/environ`` unreadable to its own user's other processes.

The shared model cache (``execution.cache_dir``) cannot be mounted read-only here: as root,
mlmaster refuses a cache the script's uid may write in or cannot read (checked once, as that
uid, at start); as an ordinary user, the script may write wherever that user may.

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
from mlmaster.execution.uid_claims import UidClaims
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

# Run as the script's user over the shared model cache: prints the first entry that user may
# write (a channel between scripts) or may not read (weights a script would fail to load).
_CACHE_CHECK = (
    "import os,sys\n"
    "n=0\n"
    "for top,dirs,files in os.walk(sys.argv[1],onerror=lambda e:(print('read',e.filename),"
    "sys.exit(1))):\n"
    "    if os.access(top,os.W_OK): print('write',top); sys.exit(1)\n"
    "    for f in files:\n"
    "        p=os.path.join(top,f); n+=1\n"
    "        if n>int(sys.argv[2]): sys.exit(0)\n"
    "        if os.path.exists(p) and not os.access(p,os.R_OK): print('read',p); sys.exit(1)\n"
)
CACHE_CHECK_LIMIT = 100_000  # files checked in the model cache at most


class Unsandboxed:
    def __init__(
        self, context: SandboxContext, *, switch_user: bool, claims: UidClaims | None = None
    ) -> None:
        self.context = context
        self.switch_user = switch_user
        self.claims = claims or UidClaims(context.uid)
        self._reached: set[tuple[Path, Path, int]] = set()
        common = [
            "the network",
            "every file its user may read (world-readable files anywhere on the host)",
            "the public data's folder, writable if its user may write there",
        ]
        if context.cache_dir is not None:
            common.append(f"the model cache {context.cache_dir} (refused if writable by it)")
            if not switch_user:
                common[-1] = (
                    f"the model cache {context.cache_dir}, writable if its user may write there"
                )
        if switch_user:
            user = (
                f"a uid per slot from {context.uid} up that no other run uses, gid "
                f"{context.gid} (mlmaster runs as root; the script does not)"
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
        """The uid scripts on ``slot`` run as (mlmaster as root), claimed at first use."""
        return self.claims.for_slot(slot.index)

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
            readable += [] if self.context.cache_dir is None else [self.context.cache_dir]
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

    def _python_as(
        self, uid: int, code: str, *args: str, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        """Run ``code`` in the scripts' Python as ``uid`` (and the scripts' group, no other)."""
        return subprocess.run(
            [str(self.context.python), "-I", "-S", "-c", code, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd="/",
            user=uid,
            group=self.context.gid,
            extra_groups=[],
        )

    def check_reach(self, folders: Sequence[Path], uid: int) -> None:
        """Fail with what to do when ``uid`` cannot start the scripts' Python or list a folder."""
        try:
            done = self._python_as(uid, _REACH, *map(str, folders), timeout=60)
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

    def check_cache(self, cache_dir: Path, uid: int) -> None:
        """Fail with what to do when ``uid`` may write in the model cache or not read it."""
        limit = str(CACHE_CHECK_LIMIT)
        try:
            done = self._python_as(uid, _CACHE_CHECK, str(cache_dir), limit, timeout=300)
        except (OSError, subprocess.SubprocessError) as exc:
            raise UserError(
                f"execution.cache_dir: could not check {cache_dir} as uid {uid} ({exc}); "
                "make it smaller or unset execution.cache_dir"
            ) from exc
        if done.returncode == 0:
            return
        problem, _, where = done.stdout.strip().partition(" ")
        if problem == "write":
            raise UserError(
                f"execution.cache_dir: scripts run as uid {uid} without a sandbox and may write "
                f"in {where or cache_dir}, which would let one script change what the next "
                f"loads; make it read-only for others (chmod -R o-w {cache_dir})"
            )
        raise UserError(
            f"execution.cache_dir: scripts run as uid {uid} without a sandbox and cannot read "
            f"{where or done.stderr.strip()[-300:]}; make the cache readable by others "
            f"(chmod -R o+rX {cache_dir})"
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
        first = sandbox.claims.for_slot(0)
        sandbox.check_reach([], first)
        if context.cache_dir is not None:
            sandbox.check_cache(context.cache_dir, first)
    return sandbox


register_sandbox("none", create)
