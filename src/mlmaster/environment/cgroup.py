"""CPU quota and memory limit from the process's control group (cgroup v2 or v1).

A container's CPU affinity often lists every host core while a CPU quota (``docker --cpus 4``,
MLE-bench's default) allows only four cores' worth of time: sizing by the affinity would run
sixteen-fold oversubscribed. These readers take the cgroup filesystem's root as a parameter,
so tests point them at a folder of fake files.
"""

from __future__ import annotations

import math
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
# cgroup v1 reports "no limit" as a huge number (the page-aligned maximum of a signed 64 bit).
UNLIMITED = 1 << 60


def _own_paths(proc_cgroup: Path) -> dict[str, str]:
    """Controller (``""`` for v2) → this process's cgroup path, from ``/proc/self/cgroup``."""
    found: dict[str, str] = {}
    try:
        text = proc_cgroup.read_text()
    except OSError:
        return found
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for controller in parts[1].split(",") if parts[1] else [""]:
            found[controller] = parts[2]
    return found


def _candidates(root: Path, controller: str, proc_cgroup: Path) -> list[Path]:
    """Folders to look in, most specific first: this process's cgroup, then the root.

    Inside a container the cgroup namespace makes the process's path ``/``; on a host it is
    the full path. A path that is not mounted here (a foreign namespace) falls back to the root.
    """
    base = root / controller if controller else root
    own = _own_paths(proc_cgroup).get(controller, "/").lstrip("/")
    out = [base / own] if own else []
    out.append(base)
    return out


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cpu_quota(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> float | None:
    """CPUs' worth of time this cgroup may use per period, or None when unlimited."""
    for folder in _candidates(root, "", proc_cgroup):
        text = _read(folder / "cpu.max")  # v2: "<quota> <period>" or "max <period>"
        if text is not None:
            allowed, _, period = text.partition(" ")
            if allowed == "max":
                return None
            return int(allowed) / int(period or 100000)
    for controller in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        for folder in _candidates(root, controller, proc_cgroup):
            quota_text = _read(folder / "cpu.cfs_quota_us")  # v1: -1 when unlimited
            period_text = _read(folder / "cpu.cfs_period_us")
            if quota_text is not None and period_text is not None:
                microseconds = int(quota_text)
                return None if microseconds <= 0 else microseconds / int(period_text)
    return None


def memory_limit(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int | None:
    """Bytes of memory this cgroup may use, or None when unlimited."""
    for folder in _candidates(root, "", proc_cgroup):
        text = _read(folder / "memory.max")
        if text is not None:
            return None if text == "max" else int(text)
    for folder in _candidates(root, "memory", proc_cgroup):
        text = _read(folder / "memory.limit_in_bytes")
        if text is not None:
            value = int(text)
            return None if value >= UNLIMITED else value
    return None


def usable_cpus(affinity: int, quota: float | None) -> int:
    """CPUs scripts may keep busy: the affinity, capped by the quota (whole CPUs, at least 1)."""
    if quota is None:
        return affinity
    return max(1, min(affinity, math.floor(quota + 1e-9)))
