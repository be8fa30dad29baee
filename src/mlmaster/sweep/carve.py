"""Disjoint CPU sets and GPUs for runs that share one machine. Pure: no I/O.

A run asks for ``cpus`` CPUs and ``gpus`` GPUs; it gets them only when that many are free, and
gives them back when it ends. Runs never share a CPU or a GPU, so their scripts (which the
executor pins inside the run's set) never compete for a core.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mlmaster.errors import UserError
from mlmaster.sweep.plan import Resources


@dataclass(frozen=True)
class Share:
    cpus: tuple[int, ...]
    gpus: tuple[int, ...]


@dataclass
class MachinePool:
    """The CPUs and GPUs of one machine, handed out to runs in disjoint shares."""

    cpus: Sequence[int]
    gpus: Sequence[int]
    _free_cpus: list[int] = field(init=False)
    _free_gpus: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self._free_cpus = sorted(self.cpus)
        self._free_gpus = sorted(self.gpus)

    def check_fits(self, want: Resources) -> None:
        """A run that could never start here is an error now, not a queue that never moves."""
        if want.cpus > len(self.cpus):
            raise UserError(
                f"each run asks for {want.cpus} CPUs but this machine has {len(self.cpus)} "
                "usable; lower sweep.cpus_per_run"
            )
        if want.gpus > len(self.gpus):
            raise UserError(
                f"each run asks for {want.gpus} GPUs but this machine has {len(self.gpus)}; "
                "lower sweep.gpus_per_run"
            )

    def capacity(self, want: Resources) -> int:
        """How many such runs fit at once on the whole machine."""
        fits = len(self.cpus) // want.cpus
        if want.gpus:
            fits = min(fits, len(self.gpus) // want.gpus)
        return fits

    def take(self, want: Resources) -> Share | None:
        """A share for one run, or None while too little is free."""
        if len(self._free_cpus) < want.cpus or len(self._free_gpus) < want.gpus:
            return None
        # Contiguous low ids first: neighbouring cores tend to share caches.
        cpus, self._free_cpus = self._free_cpus[: want.cpus], self._free_cpus[want.cpus :]
        gpus, self._free_gpus = self._free_gpus[: want.gpus], self._free_gpus[want.gpus :]
        return Share(tuple(cpus), tuple(gpus))

    def give_back(self, share: Share) -> None:
        self._free_cpus = sorted({*self._free_cpus, *share.cpus})
        self._free_gpus = sorted({*self._free_gpus, *share.gpus})
