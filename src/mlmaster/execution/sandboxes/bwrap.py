"""bubblewrap: the script sees the system's programs, its workspace and the public data, no more.

Inside: ``/usr`` and the usual top-level links, a few files of ``/etc`` that dynamic linking
and locales read, the scripts' Python (its prefixes only), the competition's public folder
read-only, the shared model cache (``execution.cache_dir``) read-only, the workspace
read-write, and a private ``/tmp``, ``/dev`` and ``/proc``. Not inside:
the network (a new, empty network namespace), the home folders, the run directory beyond this
workspace, the private answers, every other host file. A new PID namespace means that when the
script's tree is killed, nothing of it survives or lingers as a zombie.

The script never holds a capability, even when mlmaster runs as root: it runs as an
unprivileged uid inside a new user namespace, with every capability dropped, so it cannot
remount the read-only data or mount anything. Where user namespaces are disabled but mlmaster
is root, bwrap still builds the mount namespaces and the script is switched to the unprivileged
uid inside before it starts (bwrap sets ``no_new_privs``, so no setuid program gives it back).
"""

from __future__ import annotations

import glob
import shutil
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from mlmaster.execution.process_tree import ProcessTree
from mlmaster.execution.sandbox import (
    Launch,
    SandboxContext,
    SandboxInfo,
    SandboxUnavailable,
    register_sandbox,
    running_as_root,
)
from mlmaster.execution.topology import SlotSpec
from mlmaster.execution.workspace import Workspace
from mlmaster.logs import get_logger

log = get_logger(__name__)

# Read by the dynamic linker, name lookups that libraries make at import, TLS and time zones.
_ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/hosts",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/alternatives",
)
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt/conda")

# Run inside the sandbox by the scripts' own Python when there is no user namespace: drop to
# the unprivileged ids, then become the script. Changing every uid away from 0 clears all
# capabilities; bwrap keeps only the two this needs.
_DROP_PRIVILEGES = (
    "import os,sys;u,g=int(sys.argv[1]),int(sys.argv[2]);os.setgroups([]);"
    "os.setresgid(g,g,g);os.setresuid(u,u,u);os.execv(sys.argv[3],sys.argv[3:])"
)


def bwrap_command(
    *,
    workspace: Path,
    readonly: Sequence[Path],
    gpus: Sequence[int] = (),
    bwrap: str = "bwrap",
    uid: int = 65534,
    gid: int = 65534,
    user_namespace: bool = True,
    overlays: Sequence[tuple[Path, Path]] = (),
) -> list[str]:
    """The ``bwrap ... --`` prefix for a script run in ``workspace``.

    ``readonly`` lists extra folders to mount read-only at the same path (the interpreter's
    prefixes, the public data). ``overlays`` are ``(file, path)`` pairs: ``file`` is mounted
    read-only over ``path`` after those, so the script sees it there instead (the holdout's kept
    training rows over the real training table). GPU device nodes are passed through only when
    the slot has GPUs.
    Without ``user_namespace`` the caller must switch to ``uid``/``gid`` itself (only root can
    run bwrap that way), and bwrap keeps the two capabilities that switch needs.
    """
    cmd = [bwrap]
    if user_namespace:
        cmd += ["--unshare-user", "--uid", str(uid), "--gid", str(gid), "--cap-drop", "ALL"]
    else:
        cmd += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    cmd += [
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--hostname",
        "sandbox",
    ]
    for top in _SYSTEM_DIRS:
        path = Path(top)
        if path.is_symlink():
            cmd += ["--symlink", str(path.readlink()), top]
        elif path.is_dir():
            cmd += ["--ro-bind", top, top]
    for item in _ETC_FILES:
        cmd += ["--ro-bind-try", item, item]
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    # Writable by the script's uid even where it does not own them (no user namespace).
    cmd += ["--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--tmpfs", "/dev/shm"]
    # CPU topology: OpenMP runtimes and joblib read it to size their pools.
    cmd += ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
    if gpus:
        for node in sorted(glob.glob("/dev/nvidia*")):
            cmd += ["--dev-bind-try", node, node]
        cmd += ["--ro-bind-try", "/proc/driver/nvidia", "/proc/driver/nvidia"]
        cmd += ["--ro-bind-try", "/sys/bus/pci", "/sys/bus/pci"]
        cmd += ["--ro-bind-try", "/sys/devices", "/sys/devices"]
    mounts = _dedupe(readonly)
    cmd += _searchable_parents([*mounts, Path(workspace)])
    for path in mounts:
        cmd += ["--ro-bind", str(path), str(path)]
    for source, target in overlays:
        cmd += ["--ro-bind", str(source), str(target)]
    cmd += ["--bind", str(workspace), str(workspace), "--chdir", str(workspace), "--"]
    return cmd


def _searchable_parents(paths: Sequence[Path]) -> list[str]:
    """Create the folders above each mount point searchable by all (bwrap makes them 0700).

    Without a user namespace the script's uid is not their owner and could not reach its
    interpreter or workspace through them.
    """
    mounted = {Path("/proc"), Path("/dev"), *map(Path, _SYSTEM_DIRS)}  # read-only inside
    made: set[Path] = {Path("/"), Path("/tmp")}
    args: list[str] = []
    for path in paths:
        for parent in reversed(Path(path).parents):
            if parent in made or parent in mounted or mounted & set(parent.parents):
                continue
            made.add(parent)
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


class BwrapSandbox:
    def __init__(
        self, context: SandboxContext, binary: str, *, user_namespace: bool = True
    ) -> None:
        self.context = context
        self.binary = binary
        self.user_namespace = user_namespace
        self._cache = [] if context.cache_dir is None else [context.cache_dir]
        where = "in a user namespace" if user_namespace else "(no user namespace here)"
        self.info = SandboxInfo(
            name="bwrap",
            confined=True,
            network=False,
            user=f"uid {context.uid}, gid {context.gid} {where}, no capability",
            exposes=[
                "its own workspace (read-write)",
                "the competition's public data (read-only)",
                "the system's programs and libraries and the scripts' Python (read-only)",
                *[f"the model cache {path} (read-only)" for path in self._cache],
            ],
        )

    def prepare(self, workspace: Workspace, slot: SlotSpec) -> None:
        if not self.user_namespace:
            # Open to others: bwrap, root without capabilities by then, must enter it. No other
            # script sees it anyway; each sandbox mounts its own workspace only.
            workspace.hand_over(self.context.uid, self.context.gid, closed=False)

    def wrap(self, argv: Sequence[str], workspace: Workspace, slot: SlotSpec) -> Launch:
        jail = bwrap_command(
            workspace=workspace.root,
            readonly=[
                *self.context.python_roots,
                workspace.public_dir,
                *workspace.also_readable,
                *self._cache,
            ],
            gpus=slot.gpus,
            bwrap=self.binary,
            uid=self.context.uid,
            gid=self.context.gid,
            user_namespace=self.user_namespace,
            overlays=workspace.overlays,
        )
        if self.user_namespace:
            return Launch([*jail, *argv])
        ids = [str(self.context.uid), str(self.context.gid)]
        drop = [str(self.context.python), "-I", "-S", "-c", _DROP_PRIVILEGES, *ids]
        return Launch([*jail, *drop, *argv])

    def watch(self, pid: int, slot: SlotSpec) -> ProcessTree:
        return ProcessTree(pid)


@cache
def probe(binary: str, context: SandboxContext, *, user_namespace: bool) -> str | None:
    """None when a minimal sandbox of this kind starts here, else why not (once per process)."""
    jail = bwrap_command(
        workspace=Path("/tmp"),
        readonly=context.python_roots,
        bwrap=binary,
        uid=context.uid,
        gid=context.gid,
        user_namespace=user_namespace,
    )
    cmd = [*jail, "/bin/true"]
    if not user_namespace:
        ids = [str(context.uid), str(context.gid)]
        cmd = [*jail, str(context.python), "-I", "-S", "-c", _DROP_PRIVILEGES, *ids, "/bin/true"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode != 0:
        return done.stderr.strip()[-500:] or f"exit code {done.returncode}"
    return None


def create(context: SandboxContext) -> BwrapSandbox:
    binary = shutil.which("bwrap")
    if binary is None:
        raise SandboxUnavailable("bwrap is not installed")
    problem = probe(binary, context, user_namespace=True)
    if problem is None:
        return BwrapSandbox(context, binary)
    if running_as_root() and probe(binary, context, user_namespace=False) is None:
        log.warning("bwrap_without_user_namespace", reason=problem, uid=context.uid)
        return BwrapSandbox(context, binary, user_namespace=False)
    raise SandboxUnavailable(problem)


def _dedupe(paths: Sequence[Path]) -> list[Path]:
    """Drop paths that another listed path, or a system folder, already mounts."""
    covered = [Path(p) for p in _SYSTEM_DIRS]
    kept: list[Path] = []
    for path in sorted({Path(p) for p in paths}, key=lambda p: len(p.parts)):
        if any(path == c or c in path.parents for c in [*covered, *kept]):
            continue
        kept.append(path)
    return kept


register_sandbox("bwrap", create)
