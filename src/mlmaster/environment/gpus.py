"""GPU names and memory from ``nvidia-smi``, when it is there."""

from __future__ import annotations

import shutil
import subprocess

from pydantic import BaseModel, ConfigDict

from mlmaster.logs import get_logger

log = get_logger(__name__)

QUERY = ["--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits"]


class Gpu(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    name: str
    memory_mib: int | None = None


def parse_gpu_query(text: str) -> list[Gpu]:
    """Rows of ``nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,nounits``."""
    gpus = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 3 or not parts[0].isdigit():
            continue
        memory = int(float(parts[2])) if parts[2].replace(".", "", 1).isdigit() else None
        gpus.append(Gpu(index=int(parts[0]), name=parts[1], memory_mib=memory))
    return gpus


def query_gpus(nvidia_smi: str | None = None) -> list[Gpu]:
    """Every GPU ``nvidia-smi`` lists; none without the tool or when it fails."""
    tool = nvidia_smi or shutil.which("nvidia-smi")
    if tool is None:
        return []
    try:
        done = subprocess.run(
            [tool, *QUERY], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        log.warning("nvidia_smi_failed", error=str(error))
        return []
    if done.returncode != 0:
        return []
    return parse_gpu_query(done.stdout)
