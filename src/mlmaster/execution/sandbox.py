"""The bubblewrap command line that confines one script.

Inside: the system's programs and libraries (``/usr`` and the usual top-level links), a few
files of ``/etc`` that dynamic linking and locales read, the scripts' Python (its prefixes only),
the competition's public folder read-only, the workspace read-write, and a private ``/tmp``,
``/dev`` and ``/proc``. Not inside: the network (a new, empty network namespace), the home
folders, the run directory beyond this workspace, the private answers, every other host file.
A new PID namespace means that when the script's tree is killed, nothing of it survives or
lingers as a zombie.

``sandbox = auto`` probes bwrap once per process (it can fail inside containers that forbid
namespaces) and falls back to no sandbox with one warning.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Literal

from mlmaster.errors import UserError
from mlmaster.logs import get_logger

log = get_logger(__name__)

SandboxMode = Literal["auto", "bwrap", "none"]
SandboxKind = Literal["bwrap", "none"]

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


def bwrap_command(
    *,
    workspace: Path,
    readonly: Sequence[Path],
    gpus: Sequence[int] = (),
    bwrap: str = "bwrap",
) -> list[str]:
    """The ``bwrap ... --`` prefix for a script run in ``workspace``.

    ``readonly`` lists extra folders to mount read-only at the same path (the interpreter's
    prefixes, the public data). GPU device nodes are passed through only when the slot has GPUs.
    """
    cmd = [
        bwrap,
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
    cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/dev/shm"]
    # CPU topology: OpenMP runtimes and joblib read it to size their pools.
    cmd += ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
    if gpus:
        for node in sorted(glob.glob("/dev/nvidia*")):
            cmd += ["--dev-bind-try", node, node]
        cmd += ["--ro-bind-try", "/proc/driver/nvidia", "/proc/driver/nvidia"]
        cmd += ["--ro-bind-try", "/sys/bus/pci", "/sys/bus/pci"]
        cmd += ["--ro-bind-try", "/sys/devices", "/sys/devices"]
    for path in _dedupe(readonly):
        cmd += ["--ro-bind", str(path), str(path)]
    cmd += ["--bind", str(workspace), str(workspace), "--chdir", str(workspace), "--"]
    return cmd


@cache
def bwrap_works(bwrap: str) -> str | None:
    """None when a minimal bwrap sandbox starts here, else why not (probed once per process)."""
    cmd = [*bwrap_command(workspace=Path("/tmp"), readonly=()), "/bin/true"]
    cmd[0] = bwrap
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode != 0:
        return done.stderr.strip() or f"exit code {done.returncode}"
    return None


def resolve_sandbox(mode: SandboxMode) -> tuple[SandboxKind, str | None]:
    """The sandbox to use and the bwrap binary: ``auto`` degrades to none with one warning."""
    if mode == "none":
        return "none", None
    found = shutil.which("bwrap")
    problem = "bwrap is not installed" if found is None else bwrap_works(found)
    if problem is None:
        return "bwrap", found
    if mode == "bwrap":
        raise UserError(
            f"execution.sandbox = bwrap but bubblewrap cannot run here ({problem}); install "
            "the bubblewrap package, allow user namespaces, or set execution.sandbox = none"
        )
    log.warning("sandbox_unavailable", reason=problem, fallback="none")
    return "none", None


def _dedupe(paths: Sequence[Path]) -> list[Path]:
    """Drop paths that another listed path, or a system folder, already mounts."""
    covered = [Path(p) for p in _SYSTEM_DIRS]
    kept: list[Path] = []
    for path in sorted({Path(p) for p in paths}, key=lambda p: len(p.parts)):
        if any(path == c or c in path.parents for c in [*covered, *kept]):
            continue
        kept.append(path)
    return kept
