"""The ``local`` backend: several runs at once on this machine, each in its own process with a
disjoint share of the CPUs and GPUs; runs queue while the machine is full."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

import anyio

from mlmaster.execution.topology import resolve_cpus, resolve_gpus
from mlmaster.logs import get_logger
from mlmaster.settings import Settings
from mlmaster.sweep.backends import TaskFactory
from mlmaster.sweep.carve import MachinePool, Share
from mlmaster.sweep.plan import RunKey, SweepPlan
from mlmaster.sweep.status import log_path, read_record
from mlmaster.sweep.task import SweepTask

log = get_logger(__name__)


class LocalBackend:
    def __init__(self, plan: SweepPlan, settings: Settings) -> None:
        self.plan = plan
        self.pool = MachinePool(
            resolve_cpus(settings.execution.cpus), resolve_gpus(settings.execution.gpus)
        )
        self.pool.check_fits(plan.resources)
        self.at_once = min(self.pool.capacity(plan.resources), plan.parallel or 1_000_000)

    async def run(self, keys: Sequence[RunKey], make_task: TaskFactory) -> dict[RunKey, str]:
        failed: dict[RunKey, str] = {}
        freed = anyio.Event()
        running = 0

        async def one(key: RunKey, share: Share) -> None:
            nonlocal running, freed
            try:
                failure = await self._run_one(key, make_task(key, share))
                if failure:
                    failed[key] = failure
            finally:
                self.pool.give_back(share)
                running -= 1
                freed.set()
                freed = anyio.Event()

        async with anyio.create_task_group() as group:
            for key in keys:
                while True:
                    share = self.pool.take(self.plan.resources) if running < self.at_once else None
                    if share is not None:
                        break
                    await freed.wait()
                running += 1
                group.start_soon(one, key, share)
        return failed

    async def _run_one(self, key: RunKey, task: SweepTask) -> str | None:
        task_file = log_path(task.sweep_dir, key).with_suffix(".task.json")
        task_file.parent.mkdir(parents=True, exist_ok=True)
        task_file.write_text(task.model_dump_json(indent=2))
        log.info("sweep_run_started", run=key.name, cpus=task.cpus, gpus=task.gpus)
        with log_path(task.sweep_dir, key).open("ab") as output:
            process = await anyio.run_process(
                [sys.executable, "-m", "mlmaster.sweep.worker", str(task_file)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                check=False,
            )
        record = read_record(task.sweep_dir, key)
        if record is not None and record.ended:
            return None
        if record is not None:
            return f"{record.stop_reason}: {record.note}" if record.note else record.stop_reason
        return f"its process ended with code {process.returncode} before recording an outcome"
