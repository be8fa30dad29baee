"""What hardware scripts may use, and how it is cut into execution slots.

Pure functions except the two detectors, which read the process's CPU affinity, the
``CUDA_VISIBLE_DEVICES`` variable and, when present, ``nvidia-smi -L``. Tests pass fake
topologies straight to :func:`plan_slots`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from mlmaster.environment.cgroup import usable_cpus
from mlmaster.errors import UserError
from mlmaster.logs import get_logger
from mlmaster.settings.units import format_ids

log = get_logger(__name__)


class SlotSpec(BaseModel):
    """One execution slot: the CPUs its scripts are pinned to and the GPUs they see."""

    model_config = ConfigDict(frozen=True)

    index: int
    cpus: tuple[int, ...]
    gpus: tuple[int, ...] = ()


def detect_cpus() -> list[int]:
    """The CPUs this process may run on (its affinity, which respects taskset and cgroups)."""
    return sorted(os.sched_getaffinity(0))


def parse_cuda_visible_devices(value: str) -> list[int] | None:
    """GPU ids from ``CUDA_VISIBLE_DEVICES``; None when they are not plain integers (UUIDs).

    An empty value or a negative id hides every GPU, as CUDA itself reads it.
    """
    ids: list[int] = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"-?\d+", part):
            return None
        number = int(part)
        if number < 0:  # CUDA stops at the first invalid id
            break
        ids.append(number)
    return ids


def parse_nvidia_smi_list(text: str) -> list[int]:
    """GPU indices from the output of ``nvidia-smi -L`` (lines like ``GPU 0: NVIDIA H100 ...``)."""
    return sorted(int(m.group(1)) for m in re.finditer(r"^GPU (\d+):", text, re.MULTILINE))


def detect_gpus(env: Mapping[str, str] | None = None, nvidia_smi: str | None = None) -> list[int]:
    """GPU ids scripts may use: ``CUDA_VISIBLE_DEVICES`` when set, else ``nvidia-smi -L``.

    ``nvidia_smi`` names the tool (found on PATH when None); no tool means no GPU.
    """
    env = os.environ if env is None else env
    if "CUDA_VISIBLE_DEVICES" in env:
        ids = parse_cuda_visible_devices(env["CUDA_VISIBLE_DEVICES"])
        if ids is not None:
            return ids
        log.warning("cuda_visible_devices_not_numeric", value=env["CUDA_VISIBLE_DEVICES"])
    tool = nvidia_smi or shutil.which("nvidia-smi")
    if tool is None:
        return []
    try:
        done = subprocess.run([tool, "-L"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("nvidia_smi_failed", error=str(exc))
        return []
    if done.returncode != 0:
        log.warning("nvidia_smi_failed", returncode=done.returncode, stderr=done.stderr[-500:])
        return []
    return parse_nvidia_smi_list(done.stdout)


def default_slot_count(cpus: Sequence[int], gpus: Sequence[int]) -> int:
    """K when ``execution.slots`` is unset: one slot per GPU, or a single slot without GPUs.

    A solution script that trains on a GPU wants the whole card, so GPUs set the count. Without
    GPUs one script gets every CPU (as ML-Master ran: one script on the whole machine), since
    the libraries solutions use (LightGBM, XGBoost, scikit-learn) scale over cores well and a
    run's speed is bounded by its best script, not by how many run at once. Never more slots
    than CPUs, since slots need disjoint CPU sets.
    """
    return max(1, min(len(gpus) or 1, len(cpus)))


def plan_slots(cpus: Sequence[int], gpus: Sequence[int], k: int) -> list[SlotSpec]:
    """Cut ``cpus`` and ``gpus`` into ``k`` slots.

    CPUs: disjoint contiguous runs covering every CPU, sizes differing by at most one (the first
    ``len(cpus) % k`` slots get the extra CPU). ``k`` may not exceed the CPU count.

    GPUs: with at least as many GPUs as slots, each slot gets its own contiguous share, sizes
    differing by at most one, no GPU left idle. With fewer GPUs than slots (but some), GPUs are
    shared round-robin: slot ``i`` gets GPU ``gpus[i % len(gpus)]``, so each GPU serves either
    ``ceil(k/g)`` or ``floor(k/g)`` slots. With no GPUs every slot gets none.
    """
    cpus = sorted(set(cpus))
    gpus = sorted(set(gpus))
    if k < 1:
        raise UserError(f"execution.slots must be at least 1 (got {k})")
    if not cpus:
        raise UserError("no CPU to run scripts on: check execution.cpus")
    if k > len(cpus):
        raise UserError(
            f"execution.slots = {k} needs at least {k} CPUs but only {len(cpus)} are available "
            f"({_ids(cpus)}); lower execution.slots or widen execution.cpus"
        )
    cpu_parts = _even_split(cpus, k)
    if len(gpus) >= k:
        gpu_parts = _even_split(gpus, k)
    elif gpus:
        gpu_parts = [[gpus[i % len(gpus)]] for i in range(k)]
    else:
        gpu_parts = [[] for _ in range(k)]
    return [
        SlotSpec(index=i, cpus=tuple(c), gpus=tuple(g))
        for i, (c, g) in enumerate(zip(cpu_parts, gpu_parts, strict=True))
    ]


def resolve_cpus(configured: list[int] | str) -> list[int]:
    """``execution.cpus`` made concrete: ``all`` is the affinity; listed ids must be in it."""
    available = detect_cpus()
    if configured == "all":
        return available
    assert isinstance(configured, list)
    missing = sorted(set(configured) - set(available))
    if missing:
        raise UserError(
            f"execution.cpus names CPUs {_ids(missing)} that this process cannot use "
            f"(available: {_ids(available)}); pick ids from the available ones or use all"
        )
    return sorted(configured)


def cap_to_quota(cpus: list[int], quota: float | None) -> list[int]:
    """The CPUs to plan slots on: no more than a cgroup CPU quota lets run at once.

    In a container with ``--cpus 4`` the affinity may list every host core; slots and thread
    counts sized from it would run many times oversubscribed. Scripts are then pinned to the
    first ``floor(quota)`` CPUs of the list, and their thread counts follow.
    """
    usable = usable_cpus(len(cpus), quota)
    if usable < len(cpus):
        log.info("cpus_capped_by_quota", quota=quota, affinity=len(cpus), usable=usable)
        return sorted(cpus)[:usable]
    return cpus


def resolve_gpus(configured: list[int] | str) -> list[int]:
    """``execution.gpus`` made concrete: ``auto`` detects, ``none`` is empty, ids are kept."""
    if configured == "none":
        return []
    if configured == "auto":
        return detect_gpus()
    assert isinstance(configured, list)
    return sorted(configured)


def _even_split(items: list[int], k: int) -> list[list[int]]:
    size, extra = divmod(len(items), k)
    parts: list[list[int]] = []
    start = 0
    for i in range(k):
        end = start + size + (1 if i < extra else 0)
        parts.append(items[start:end])
        start = end
    return parts


def _ids(ids: Sequence[int]) -> str:
    return format_ids(ids)  # ranges compressed: a long list stays one short line
