"""What the scripts' environment really is, found at run start and stated to the model.

:func:`discover` gathers the facts once: the scripts' interpreter and its packages (asked of
that interpreter), the GPUs with names and memory, usable CPUs (affinity and cgroup quota), the
memory limit, whether a script can reach the network, free disk, and the shared model cache
(``execution.cache_dir``, read-only; see :mod:`mlmaster.environment.model_cache`), and the
useful programs on the scripts' ``PATH`` (a 7z tool; see :mod:`mlmaster.environment.programs`).
They are recorded in the run's first journal line, shown in the report, and the prompt states
them and nothing else about the environment.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from mlmaster.environment.cgroup import CGROUP_ROOT, cpu_quota, memory_limit, usable_cpus
from mlmaster.environment.gpus import Gpu, query_gpus
from mlmaster.environment.model_cache import cached_models
from mlmaster.environment.packages import Interpreter, Package, probe_interpreter
from mlmaster.environment.programs import find_programs, scripts_path

__all__ = ["Environment", "Gpu", "Interpreter", "Package", "SlotFacts", "discover"]


class SlotFacts(BaseModel):
    """One execution slot as a script on it sees the machine."""

    model_config = ConfigDict(frozen=True)

    index: int
    cpus: int
    gpus: list[Gpu] = []
    gpu_shared_by: int = 1  # scripts that may run on the slot's GPU at once (this one included)


class Environment(BaseModel):
    model_config = ConfigDict(frozen=True)

    interpreter: Interpreter
    slots: list[SlotFacts]
    affinity_cpus: int  # CPUs in the affinity mask
    cpu_quota: float | None  # cgroup CPU quota in CPUs, None when unlimited
    usable_cpus: int  # what scripts may keep busy: the mask capped by the quota
    memory_limit: int | None  # bytes: the cgroup's limit or execution.memory_limit, the lower
    network: bool  # whether a script can reach the network
    network_source: str  # what says so: the sandbox, or the setting
    disk_free: int | None  # bytes free where the run writes
    cache_dir: str | None = None  # the shared model cache scripts read (never write)
    cached_models: list[str] = []  # what it holds: "org/name", "torch: file.pth"
    programs: list[str] = []  # useful programs on the scripts' PATH (7z ...); see programs.py

    def slot(self, index: int) -> SlotFacts:
        return next((s for s in self.slots if s.index == index), self.slots[0])

    def facts(self) -> list[tuple[str, str]]:
        """(label, text) lines for the report."""
        python = self.interpreter
        if python.version is None:
            found = f"{python.path} did not answer ({python.error})"
        else:
            shown = ", ".join(f"{p.name} {p.version}" for p in python.packages[:12])
            found = f"{python.path}: Python {python.version}; {len(python.packages)} packages"
            found += f" ({shown}, ...)" if shown else ""
        quota = f", quota {self.cpu_quota:g}" if self.cpu_quota is not None else ""
        cpus = f"{self.usable_cpus} usable (affinity {self.affinity_cpus}{quota})"
        slots = "; ".join(
            f"slot {s.index}: {s.cpus} CPUs"
            + "".join(
                f", {g.name}" + (f" {g.memory_mib} MiB" if g.memory_mib else "") for g in s.gpus
            )
            + (f" (GPU shared by {s.gpu_shared_by})" if s.gpu_shared_by > 1 else "")
            for s in self.slots
        )
        memory = f"{self.memory_limit / 1024**3:.1f} GiB" if self.memory_limit else "no limit"
        disk = f"{self.disk_free / 1024**3:.1f} GiB free" if self.disk_free is not None else "?"
        network = "reachable" if self.network else "none"
        facts = [
            ("python", found),
            ("cpus", cpus),
            ("slots", slots),
            ("memory", memory),
            ("network", f"{network} ({self.network_source})"),
            ("disk", disk),
        ]
        if self.programs:
            facts.append(("programs", ", ".join(self.programs)))
        if self.cache_dir is not None:
            held = ", ".join(self.cached_models[:12]) or "nothing recognised"
            more = len(self.cached_models) - 12
            held += f" and {more} more" if more > 0 else ""
            facts.append(("model cache", f"{self.cache_dir}, read-only: {held}"))
        return facts


def discover(
    python: Path,
    slots: Sequence[tuple[int, Sequence[int], Sequence[int]]],
    *,
    affinity_cpus: int,
    network: bool,
    network_source: str,
    work_dir: Path,
    memory_cap: int | None = None,
    cache_dir: Path | None = None,
    cgroup_root: Path = CGROUP_ROOT,
    nvidia_smi: str | None = None,
    search_path: str | None = None,
) -> Environment:
    """The facts, for ``slots`` given as (index, CPU ids, GPU ids). Reads files and runs tools.

    ``search_path`` is where programs are looked for: the scripts' own ``PATH`` unless given.
    """
    known = {gpu.index: gpu for gpu in query_gpus(nvidia_smi)} if any(s[2] for s in slots) else {}
    users: dict[int, int] = {}
    for _, _, gpu_ids in slots:
        for gpu in gpu_ids:
            users[gpu] = users.get(gpu, 0) + 1
    facts = [
        SlotFacts(
            index=index,
            cpus=len(cpu_ids),
            gpus=[known.get(g, Gpu(index=g, name="GPU")) for g in gpu_ids],
            gpu_shared_by=max((users[g] for g in gpu_ids), default=1),
        )
        for index, cpu_ids, gpu_ids in slots
    ]
    quota = cpu_quota(cgroup_root)
    limits = [m for m in (memory_limit(cgroup_root), memory_cap) if m is not None]
    try:
        free: int | None = shutil.disk_usage(work_dir).free
    except OSError:
        free = None
    return Environment(
        interpreter=probe_interpreter(python),
        slots=facts,
        affinity_cpus=affinity_cpus,
        cpu_quota=quota,
        usable_cpus=usable_cpus(affinity_cpus, quota),
        memory_limit=min(limits) if limits else None,
        network=network,
        network_source=network_source,
        disk_free=free,
        cache_dir=None if cache_dir is None else str(cache_dir),
        cached_models=[] if cache_dir is None else cached_models(cache_dir),
        programs=find_programs(search_path if search_path is not None else scripts_path(python)),
    )
