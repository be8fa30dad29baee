"""A description of the machine a benchmark ran on, for the results table's header."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import psutil
from pydantic import BaseModel


class MachineInfo(BaseModel):
    cpu_model: str
    logical_cores: int
    physical_cores: int | None
    usable_cores: int  # what this process may run on (cgroup / affinity)
    memory_gib: float
    python: str
    os: str

    def line(self) -> str:
        return (
            f"{self.cpu_model}, {self.usable_cores} usable cores ({self.logical_cores} logical), "
            f"{self.memory_gib:.1f} GiB RAM, Python {self.python}, {self.os}"
        )


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, else what the platform module knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def describe_machine() -> MachineInfo:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 1
    return MachineInfo(
        cpu_model=cpu_model(),
        logical_cores=psutil.cpu_count(logical=True) or usable,
        physical_cores=psutil.cpu_count(logical=False),
        usable_cores=usable,
        memory_gib=psutil.virtual_memory().total / 1024**3,
        python=sys.version.split()[0],
        os=platform.platform(terse=True),
    )
