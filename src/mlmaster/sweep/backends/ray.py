"""The ``ray`` backend: each run a Ray task with ``num_cpus``, ``num_gpus`` and ``memory``, on an
existing cluster (``sweep.address`` or ``RAY_ADDRESS``) or a local one started for the sweep.

Ray is an optional extra (``pip install 'mlmaster[ray]'``), imported only here. The sweep
directory must be on storage every node sees (a shared file system), since tasks write their
runs there and the driver reads them back. The driver's ``MLMASTER_*`` variables (LLM keys
included) travel with each task, so nodes need no settings of their own.

Ray does not pin CPUs: a run on a node shares that node's cores with the node's other tasks,
sized by ``num_cpus`` (its slots are planned on the CPUs the worker may use).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import anyio

from mlmaster.errors import UserError
from mlmaster.logs import get_logger
from mlmaster.settings import Settings
from mlmaster.sweep.backends import TaskFactory
from mlmaster.sweep.plan import RunKey, SweepPlan
from mlmaster.sweep.task import SweepTask

log = get_logger(__name__)


def _run_task(payload: dict[str, Any]) -> dict[str, Any]:
    """What a Ray worker runs: one run of the sweep, its output in the run's log file."""
    from mlmaster.sweep.task import execute_logged

    task = SweepTask.model_validate(payload)
    main = threading.current_thread() is threading.main_thread()
    return execute_logged(task, handle_signals=main).model_dump(mode="json")


class RayBackend:
    def __init__(self, plan: SweepPlan, settings: Settings) -> None:
        self.plan = plan
        try:
            import ray
        except ImportError:
            raise UserError(
                "the ray backend needs Ray: pip install 'mlmaster[ray]' (or use --backend local)"
            ) from None
        self.ray = ray

    async def run(self, keys: Sequence[RunKey], make_task: TaskFactory) -> dict[RunKey, str]:
        return await anyio.to_thread.run_sync(self._run_blocking, list(keys), make_task)

    def _run_blocking(self, keys: list[RunKey], make_task: TaskFactory) -> dict[RunKey, str]:
        ray = self.ray
        address = self.plan.address or os.environ.get("RAY_ADDRESS") or None
        try:
            ray.init(
                address=address,
                log_to_driver=False,
                include_dashboard=False,
                configure_logging=False,
                ignore_reinit_error=True,
            )
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise UserError(
                f"cannot reach the Ray cluster at {address or 'a new local cluster'}: {error}"
            ) from None
        resources = self.plan.resources
        # A fresh worker process per run: its own signals, event loop and memory.
        remote = ray.remote(max_calls=1)(_run_task).options(
            num_cpus=resources.cpus,
            num_gpus=resources.gpus,
            memory=resources.memory,
            max_retries=self.plan.max_retries,
        )
        environment = {k: v for k, v in os.environ.items() if k.startswith("MLMASTER_")}
        pending: dict[Any, RunKey] = {}
        for key in keys:
            task = make_task(key, None).model_copy(update={"environment": environment})
            pending[remote.remote(task.model_dump(mode="json"))] = key
        failed: dict[RunKey, str] = {}
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1, timeout=2.0)
                for ref in done:
                    key = pending.pop(ref)
                    try:
                        record = ray.get(ref)
                    except Exception as error:  # a lost worker or node: resume finishes it
                        failed[key] = f"{type(error).__name__}: {str(error).splitlines()[0]}"
                        continue
                    if record["exit_code"] not in (0, 1):
                        failed[key] = f"{record['stop_reason']}: {record.get('note') or ''}"
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            ray.shutdown()
        return failed
