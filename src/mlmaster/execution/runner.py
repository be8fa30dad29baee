"""Run one script to completion, timeout, memory cap or cancellation, and say what happened.

:func:`run_script` is the mechanism (one process tree, one slot already leased);
:class:`Executor` is what the orchestrator holds: the settings resolved once (CPUs, GPUs,
slots, interpreter, sandbox) and a :class:`SlotPool`, with ``await executor.run(workspace,
timeout=...)``.

Every run ends the same way, whatever stopped it: SIGTERM to the whole tree, a grace period,
SIGKILL to whatever is left, the root reaped, orphans reaped, pipes drained. The cleanup runs
shielded, so a cancelled caller still leaves no process behind.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

from mlmaster.environment.cgroup import CGROUP_ROOT, cpu_quota
from mlmaster.execution.capture import HeadTail, drain
from mlmaster.execution.interpreter import interpreter_roots, resolve_script_python
from mlmaster.execution.process_tree import ProcessTree, become_subreaper, wait_exit
from mlmaster.execution.result import ExecutionResult, KilledReason
from mlmaster.execution.sandbox import SandboxKind, bwrap_command, resolve_sandbox
from mlmaster.execution.slots import SlotPool
from mlmaster.execution.topology import (
    SlotSpec,
    cap_to_quota,
    default_slot_count,
    plan_slots,
    resolve_cpus,
    resolve_gpus,
)
from mlmaster.execution.tracebacks import parse_traceback
from mlmaster.execution.workspace import Workspace
from mlmaster.logs import get_logger
from mlmaster.settings.model import ExecutionSettings

log = get_logger(__name__)

SAMPLE_INTERVAL = 0.1  # seconds between memory / CPU samples of a running tree
PIPE_DRAIN_GRACE = 1.0  # seconds to wait for output after the tree is dead


def script_env(
    slot: SlotSpec, workspace: Workspace, python: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The whole environment a script sees: built from scratch, nothing inherited.

    Inheriting would hand the script API keys and ``MLMASTER_*`` settings; only what a solution
    needs is set. Thread counts follow the slot's CPUs so BLAS and OpenMP pools do not
    oversubscribe a slot.
    """
    threads = str(len(slot.cpus))
    env = {
        "PATH": f"{python.parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workspace.working_dir),
        "TMPDIR": str(workspace.working_dir),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "CUDA_VISIBLE_DEVICES": ",".join(str(g) for g in slot.gpus),
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "NUMEXPR_NUM_THREADS": threads,
    }
    env.update(extra or {})
    return env


def script_command(
    script: Path,
    workspace: Workspace,
    slot: SlotSpec,
    *,
    python: Path,
    sandbox: SandboxKind,
    bwrap: str = "bwrap",
) -> tuple[list[str], Callable[[], None] | None]:
    """The argv, and a pre-exec hook when ``taskset`` is missing.

    The CPU affinity is set before any of the script's code runs: ``taskset`` sets it and then
    execs (nothing of Python runs in the forked child). Without ``taskset`` a pre-exec hook calls
    ``sched_setaffinity``, a single system call, which is as safe as a pre-exec hook gets.
    """
    argv = [str(python), str(script)]
    if sandbox == "bwrap":
        readonly = [*interpreter_roots(python), workspace.public_dir]
        jail = bwrap_command(
            workspace=workspace.root, readonly=readonly, gpus=slot.gpus, bwrap=bwrap
        )
        argv = [*jail, *argv]
    cpus = ",".join(str(c) for c in slot.cpus)
    taskset = shutil.which("taskset")
    if taskset:
        return [taskset, "-c", cpus, *argv], None
    cpu_set = set(slot.cpus)
    return argv, lambda: os.sched_setaffinity(0, cpu_set)


async def run_script(
    script: Path,
    workspace: Workspace,
    slot: SlotSpec,
    *,
    timeout: float,  # noqa: ASYNC109 - the script's limit, enforced by killing its tree
    python: Path,
    sandbox: SandboxKind = "none",
    memory_limit: int | None = None,
    kill_grace: float = 3.0,
    output_cap: int = 64 * 1024,
    env_extra: Mapping[str, str] | None = None,
    bwrap: str = "bwrap",
) -> ExecutionResult:
    """Run ``script`` in ``workspace`` on ``slot``'s CPUs and GPUs until it ends or is stopped."""
    argv, preexec = script_command(
        script, workspace, slot, python=python, sandbox=sandbox, bwrap=bwrap
    )
    out, err = HeadTail(output_cap), HeadTail(output_cap)
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=workspace.root,
        env=script_env(slot, workspace, python, env_extra),
        start_new_session=True,
        preexec_fn=preexec,
    )
    log.debug("script_started", pid=proc.pid, cpus=list(slot.cpus), gpus=list(slot.gpus))
    tree = ProcessTree(proc.pid)
    assert proc.stdout is not None and proc.stderr is not None
    readers = [
        asyncio.create_task(drain(proc.stdout, out)),
        asyncio.create_task(drain(proc.stderr, err)),
    ]
    watcher = asyncio.create_task(_watch_memory(tree, memory_limit))
    exited = asyncio.create_task(wait_exit(proc.pid))
    reason: KilledReason | None = None
    runtime: float | None = None
    try:
        done, _ = await asyncio.wait(
            {exited, watcher}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if exited not in done:
            reason = "memory" if watcher in done else "timeout"
    except asyncio.CancelledError:
        reason = "cancelled"
        raise
    finally:
        runtime = time.monotonic() - started
        try:
            await _shielded(_finish(proc, tree, exited, watcher, readers, kill_grace))
        finally:
            if reason is not None:
                log.info("script_killed", pid=proc.pid, reason=reason, runtime=round(runtime, 3))

    stderr = err.result()
    exit_code = None if reason else proc.returncode
    exception = None
    if exit_code != 0:
        exception = parse_traceback(stderr.head + "\n" + stderr.tail, script.name)
    return ExecutionResult(
        exit_code=exit_code,
        timed_out=reason == "timeout",
        killed_reason=reason,
        runtime=runtime,
        stdout=out.result(),
        stderr=stderr,
        exception=exception,
        peak_memory=tree.peak_rss or None,
        cpu_time=tree.cpu_time,
        submission_path=workspace.submission(),
        cpus=list(slot.cpus),
        gpus=list(slot.gpus),
    )


@cache
def _sampler() -> ThreadPoolExecutor:
    """Threads of their own for sampling, so samplers never queue behind file I/O or block it."""
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="execution-sampler")


async def _watch_memory(tree: ProcessTree, limit: int | None) -> None:
    """Sample the tree until its memory passes ``limit`` (forever when there is no limit)."""
    loop = asyncio.get_running_loop()
    while True:
        rss = await loop.run_in_executor(_sampler(), tree.sample)
        if limit is not None and rss > limit:
            log.warning("script_over_memory", rss=rss, limit=limit)
            return
        await asyncio.sleep(SAMPLE_INTERVAL)


async def _finish(
    proc: asyncio.subprocess.Process,
    tree: ProcessTree,
    exited: asyncio.Task[None],
    watcher: asyncio.Task[None],
    readers: list[asyncio.Task[None]],
    kill_grace: float,
) -> None:
    """Stop whatever is left of the tree, reap it and collect the output."""
    watcher.cancel()
    if not exited.done():
        tree.sample()
        tree.signal(signal.SIGTERM)
        deadline = time.monotonic() + kill_grace
        # Polled: the tree's members are other processes, with nothing to await on.
        while time.monotonic() < deadline and (not exited.done() or tree.members()):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    # Stragglers get no grace: a script that exited on its own left them behind.
    tree.signal(signal.SIGKILL)
    await exited
    for _ in range(20):
        tree.reap_orphans()
        if not tree.members():
            break
        tree.signal(signal.SIGKILL)
        await asyncio.sleep(0.05)
    tree.reap_orphans()
    _, pending = await asyncio.wait(readers, timeout=PIPE_DRAIN_GRACE)
    for task in pending:
        task.cancel()
    await asyncio.gather(*readers, watcher, return_exceptions=True)
    try:
        # Reaps the root; returns once its pipes are closed as well.
        await asyncio.wait_for(proc.wait(), PIPE_DRAIN_GRACE)
    except TimeoutError:
        log.warning("script_pipes_held_open", pid=proc.pid)


async def _shielded(awaitable: Awaitable[None]) -> None:
    """Await ``awaitable`` to its end even if the caller is cancelled meanwhile, then re-raise."""
    task = asyncio.ensure_future(awaitable)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():
                break
            cancelled = True
    task.result()
    if cancelled:
        raise asyncio.CancelledError


class Executor:
    """Execution as the orchestrator sees it: settings resolved once, a pool of slots.

    ``cpus`` and ``gpus`` override detection (tests fake a topology with them), and
    ``cgroup_root`` the cgroup filesystem whose CPU quota caps them.
    """

    def __init__(
        self,
        settings: ExecutionSettings,
        *,
        cpus: list[int] | None = None,
        gpus: list[int] | None = None,
        cgroup_root: Path = CGROUP_ROOT,
    ) -> None:
        self.settings = settings
        self.affinity = cpus if cpus is not None else resolve_cpus(settings.cpus)
        self.cpu_quota = cpu_quota(cgroup_root)
        self.cpus = cap_to_quota(self.affinity, self.cpu_quota)
        self.gpus = gpus if gpus is not None else resolve_gpus(settings.gpus)
        count = settings.slots or default_slot_count(self.cpus, self.gpus)
        self.pool = SlotPool(plan_slots(self.cpus, self.gpus, count))
        self.python = resolve_script_python(settings.python)
        self.sandbox, bwrap = resolve_sandbox(settings.sandbox)
        self._bwrap = bwrap or "bwrap"
        if self.sandbox == "none":
            become_subreaper()
        log.info(
            "executor_ready",
            slots=[s.model_dump() for s in self.pool.slots],
            python=str(self.python),
            sandbox=self.sandbox,
        )

    async def run(
        self,
        workspace: Workspace,
        *,
        timeout: float,  # noqa: ASYNC109 - the script's limit, not this await's
        slot: SlotSpec | None = None,
        env_extra: Mapping[str, str] | None = None,
    ) -> ExecutionResult:
        """Run the workspace's script; leases a slot unless one already leased is given."""
        if slot is not None:
            return await self._run(workspace, slot, timeout, env_extra)
        async with self.pool.lease() as leased:
            return await self._run(workspace, leased, timeout, env_extra)

    async def _run(
        self,
        workspace: Workspace,
        slot: SlotSpec,
        timeout: float,  # noqa: ASYNC109 - the script's limit, not this await's
        env_extra: Mapping[str, str] | None,
    ) -> ExecutionResult:
        return await run_script(
            workspace.script_path,
            workspace,
            slot,
            timeout=timeout,
            python=self.python,
            sandbox=self.sandbox,
            memory_limit=self.settings.memory_limit,
            kill_grace=self.settings.kill_grace,
            output_cap=self.settings.output_cap,
            env_extra=env_extra,
            bwrap=self._bwrap,
        )
