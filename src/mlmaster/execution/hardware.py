"""What the executor offers scripts, described for prompts, logs and the report."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from mlmaster.execution.sandbox import SandboxInfo


class SlotHardware(BaseModel):
    """One slot: the CPUs a script is pinned to, the GPUs it sees, its memory cap."""

    model_config = ConfigDict(frozen=True)

    index: int
    cpus: tuple[int, ...]
    gpus: tuple[int, ...] = ()
    memory_limit: int | None = None  # bytes; None: no cap


class Hardware(BaseModel):
    """Every slot of the run and the sandbox scripts run in."""

    slots: list[SlotHardware]
    sandbox: SandboxInfo

    @property
    def per_script(self) -> SlotHardware:
        """What any one script can count on: the slot with the fewest CPUs."""
        return min(self.slots, key=lambda s: (len(s.cpus), len(s.gpus), s.index))
