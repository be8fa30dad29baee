"""Run one script to completion, timeout, memory cap or cancellation, and say what happened.

:func:`run_script` is the mechanism (one process tree, one slot already leased, one sandbox);
:class:`Executor` is what the orchestrator holds: the settings resolved once (CPUs, GPUs,
slots, interpreter, sandbox), the slots it leases itself, and ``await executor.run(workspace,
timeout=...)``.

Every run ends the same way, whatever stopped it: SIGTERM to the whole tree, a grace period,
SIGKILL to whatever is left, the root reaped, orphans reaped, pipes drained. The cleanup runs in
a shielded cancel scope, so a cancelled caller still leaves no process behind. Then the
submission is copied out of the workspace (:mod:`mlmaster.execution.readback`): the result
names that copy, never the workspace's file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import anyio

from mlmaster.environment.cgroup import CGROUP_ROOT, cpu_quota
from mlmaster.environment.model_cache import (
    cache_variables,
    offline_variables,
    resolve_cache_dir,
)
from mlmaster.environment.programs import scripts_path
from mlmaster.execution.capture import HeadTail, drain
from mlmaster.execution.hardware import Hardware, SlotHardware
from mlmaster.execution.interpreter import interpreter_roots, resolve_script_python
from mlmaster.execution.process_tree import running, wait_exit, wait_exit_blocking
from mlmaster.execution.readback import copy_out
from mlmaster.execution.result import ExecutionResult, KilledReason
from mlmaster.execution.sandbox import (
    Sandbox,
    SandboxContext,
    SandboxInfo,
    ScriptTree,
    resolve_sandbox,
)
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
from mlmaster.execution.workspace import SUBMISSION_NAME, Workspace
from mlmaster.logs import get_logger
from mlmaster.settings.model import ExecutionSettings

log = get_logger(__name__)

SAMPLE_INTERVAL = 0.1  # seconds between memory / CPU samples of a running tree
PIPE_DRAIN_GRACE = 1.0  # seconds to wait for output after the tree is dead
DEFAULT_SUBMISSION_CAP = 512 * 1024**2

# Samplers get threads of their own, so they never queue behind file I/O or hold it up.
_SAMPLERS = anyio.CapacityLimiter(4)

# Sets the CPU affinity, then becomes the command: used where ``taskset`` is missing.
_PIN_CPUS = "import os,sys;os.sched_setaffinity(0,map(int,sys.argv[1].split(',')));" + (
    "os.execv(sys.argv[2],sys.argv[2:])"
)


def script_env(
    slot: SlotSpec,
    workspace: Workspace,
    python: Path,
    extra: Mapping[str, str] | None = None,
    *,
    cache_dir: Path | None = None,
    network: bool = True,
) -> dict[str, str]:
    """The whole environment a script sees: built from scratch, nothing inherited.

    Inheriting would hand the script API keys and ``MLMASTER_*`` settings; only what a solution
    needs is set. Thread counts follow the slot's CPUs so BLAS and OpenMP pools do not
    oversubscribe a slot. The model libraries' cache variables point into the shared model
    cache when there is one, and without a network they are told to stay offline.
    """
    threads = str(len(slot.cpus))
    env = {
        "PATH": scripts_path(python),
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
    env.update(cache_variables(cache_dir, workspace.working_dir))
    env.update(offline_variables(network))
    env.update(extra or {})
    return env


def pin_cpus(argv: list[str], cpus: tuple[int, ...], python: Path) -> list[str]:
    """``argv`` started on ``cpus`` only, the affinity set before any of the script's code runs.

    ``taskset`` sets it and execs; without it, the scripts' Python (which the script's user can
    start) does the same in two calls.
    """
    ids = ",".join(str(c) for c in cpus)
    taskset = shutil.which("taskset")
    if taskset:
        return [taskset, "-c", ids, *argv]
    return [str(python), "-I", "-S", "-c", _PIN_CPUS, ids, *argv]


async def run_script(
    workspace: Workspace,
    slot: SlotSpec,
    sandbox: Sandbox,
    *,
    timeout: float,  # noqa: ASYNC109 - the script's limit, enforced by killing its tree
    python: Path,
    memory_limit: int | None = None,
    kill_grace: float = 3.0,
    output_cap: int = 64 * 1024,
    submission_cap: int = DEFAULT_SUBMISSION_CAP,
    env_extra: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
    network: bool = True,
    script: str | None = None,
) -> ExecutionResult:
    """Run the workspace's script on ``slot``'s CPUs and GPUs until it ends or is stopped.

    ``script``, when given, is written as the workspace's script first, in the worker thread
    that starts the process (one thread hop for both, and none on the event loop).

    ``cache_dir`` (the shared model cache) and ``network`` shape the script's environment
    (:func:`script_env`); the sandbox decides what the script can really reach.
    """

    out, err = HeadTail(output_cap), HeadTail(output_cap)
    env = script_env(slot, workspace, python, env_extra, cache_dir=cache_dir, network=network)

    def start() -> tuple[subprocess.Popen[bytes], ScriptTree, float]:
        # Off the event loop, whole: the sandbox touches the filesystem (ownership, the mounts'
        # paths), and forking this large process and waiting for the exec takes milliseconds
        # (more on a busy machine) during which no other worker's step could move.
        if script is not None:
            workspace.write_script(script)
        sandbox.prepare(workspace, slot)
        launch = sandbox.wrap([str(python), str(workspace.script_path)], workspace, slot)
        began = time.monotonic()
        proc = subprocess.Popen(
            pin_cpus(launch.argv, slot.cpus, python),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=workspace.root,
            env=env,
            start_new_session=True,
            user=launch.uid,
            group=launch.gid,
            extra_groups=[] if launch.uid is not None else None,
        )
        try:
            tree = sandbox.watch(proc.pid, slot)
        except BaseException:
            _kill_unwatched(proc)  # else it would run on, seen by nothing
            raise
        return proc, tree, began

    # Shielded: a caller cancelled while the process starts still gets it stopped below.
    with anyio.CancelScope(shield=True):
        proc, tree, started = await anyio.to_thread.run_sync(start)
    assert proc.stdout is not None and proc.stderr is not None
    stdout, stderr_pipe = proc.stdout, proc.stderr
    log.debug("script_started", pid=proc.pid, cpus=list(slot.cpus), gpus=list(slot.gpus))
    reason: KilledReason | None = None
    drained = anyio.Event()

    async def read_output() -> None:
        async with anyio.create_task_group() as readers:
            readers.start_soon(drain, stdout.fileno(), out)
            readers.start_soon(drain, stderr_pipe.fileno(), err)
        drained.set()

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(read_output)
            try:
                reason = await _supervise(proc.pid, tree, memory_limit, timeout)
            except anyio.get_cancelled_exc_class():
                reason = "cancelled"
                raise
            finally:
                runtime = time.monotonic() - started
                with anyio.CancelScope(shield=True):
                    await _stop(proc, tree, kill_grace)
                    with anyio.move_on_after(PIPE_DRAIN_GRACE):
                        await drained.wait()
                    if not drained.is_set():
                        log.warning("script_pipes_held_open", pid=proc.pid)
                    group.cancel_scope.cancel()
                    if reason is not None:
                        log.info(
                            "script_killed", pid=proc.pid, reason=reason, runtime=round(runtime, 3)
                        )
    finally:
        # Closed only now that no reader waits on them.
        stdout.close()
        stderr_pipe.close()

    kept = await anyio.to_thread.run_sync(
        lambda: copy_out(
            workspace.root,
            f"submission/{SUBMISSION_NAME}",
            workspace.kept_submission,
            cap=submission_cap,
        )
    )
    if kept.problem:
        log.warning("submission_refused", problem=kept.problem)
    stderr = err.result()
    exit_code = None if reason else proc.returncode
    exception = None
    if exit_code != 0:
        exception = parse_traceback(stderr.head + "\n" + stderr.tail, workspace.script_path.name)
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
        submission_path=kept.copy,
        submission_problem=kept.problem,
        cpus=list(slot.cpus),
        gpus=list(slot.gpus),
    )


def _kill_unwatched(proc: subprocess.Popen[bytes]) -> None:
    """Kill a script started but not watched, with its process group, and reap it."""
    with contextlib.suppress(OSError):  # gone already, or its group with it
        os.killpg(proc.pid, signal.SIGKILL)
    proc.kill()
    proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


async def _supervise(
    pid: int,
    tree: ScriptTree,
    memory_limit: int | None,
    timeout: float,  # noqa: ASYNC109 - the script's limit
) -> KilledReason | None:
    """Wait for the script to exit; the reason to kill it if it overstays or overeats first."""
    over_memory = False

    async def exit_ends(scope: anyio.CancelScope) -> None:
        await wait_exit(pid)
        scope.cancel()

    async def memory_ends(scope: anyio.CancelScope) -> None:
        nonlocal over_memory
        await _watch_memory(tree, memory_limit)
        over_memory = True
        scope.cancel()

    with anyio.move_on_after(timeout) as timer:
        async with anyio.create_task_group() as group:
            group.start_soon(exit_ends, group.cancel_scope)
            group.start_soon(memory_ends, group.cancel_scope)
    if over_memory:
        return "memory"
    return "timeout" if timer.cancelled_caught else None


async def _watch_memory(tree: ScriptTree, limit: int | None) -> None:
    """Sample the tree until its memory passes ``limit`` (forever when there is no limit)."""
    while True:
        rss = await anyio.to_thread.run_sync(tree.sample, limiter=_SAMPLERS)
        if limit is not None and rss > limit:
            log.warning("script_over_memory", rss=rss, limit=limit)
            return
        await anyio.sleep(SAMPLE_INTERVAL)


async def _stop(proc: subprocess.Popen[bytes], tree: ScriptTree, kill_grace: float) -> None:
    """Stop whatever is left of the tree, reap its root and what this process adopted of it.

    In a worker thread, whole: finding a tree's members reads every process in ``/proc`` (tens
    of milliseconds on a busy machine, several times per stop), and on the event loop that
    would stall every other worker's step.
    """

    def stop_and_reap() -> None:
        try:
            stop_tree(proc.pid, tree, kill_grace)
        finally:
            if proc.poll() is None:  # the stop failed half way: the root at least goes
                proc.kill()
            proc.wait()  # collects its exit status

    await anyio.to_thread.run_sync(stop_and_reap)


def stop_tree(pid: int, tree: ScriptTree, kill_grace: float) -> None:
    """SIGTERM, up to ``kill_grace`` seconds, SIGKILL to what is left, orphans reaped.
    Blocking: from async code, :func:`_stop`."""
    if running(pid):
        tree.sample()
        tree.signal(signal.SIGTERM)
        # Polled: the tree's members are other processes, with nothing to wait on.
        deadline = time.monotonic() + kill_grace
        while (running(pid) or tree.members()) and time.monotonic() < deadline:
            time.sleep(0.05)
    # Stragglers get no grace: a script that exited on its own left them behind.
    tree.signal(signal.SIGKILL)
    wait_exit_blocking(pid)
    for _ in range(20):
        tree.reap_orphans()
        if not tree.members():
            break
        tree.signal(signal.SIGKILL)
        time.sleep(0.05)
    tree.reap_orphans()


class Executor:
    """Execution as the orchestrator sees it: settings resolved once, slots it leases itself.

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
        self.cache_dir = resolve_cache_dir(settings.cache_dir)
        context = SandboxContext(
            python=self.python,
            python_roots=interpreter_roots(self.python),
            uid=settings.script_uid,
            gid=settings.script_gid,
            cache_dir=self.cache_dir,
        )
        self.sandbox = resolve_sandbox(settings.sandbox, context)
        info = self.sandbox.info
        self.network, self.network_source = script_network(settings.network, info)
        limit = settings.memory_limit
        self._hardware = Hardware(
            slots=[
                SlotHardware(index=s.index, cpus=s.cpus, gpus=s.gpus, memory_limit=limit)
                for s in self.pool.slots
            ],
            sandbox=info,
        )
        log.info(
            "executor_ready",
            slots=[s.model_dump() for s in self.pool.slots],
            python=str(self.python),
            sandbox=info.name,
            script_user=info.user,
        )
        if not info.confined:
            log.warning("scripts_unsandboxed", runs_as=info.user, exposes=info.exposes)

    def hardware(self) -> Hardware:
        """Every slot's CPUs, GPUs and memory cap, and the sandbox scripts run in."""
        return self._hardware

    async def run(
        self,
        workspace: Workspace,
        *,
        timeout: float | Callable[[], float],  # noqa: ASYNC109 - the script's limit
        slot: SlotSpec | None = None,
        env_extra: Mapping[str, str] | None = None,
        script: str | None = None,
    ) -> ExecutionResult:
        """Run the workspace's script in the first free slot (or in ``slot``, already leased).

        ``script``: the script's source, written into the workspace just before it starts
        (else the workspace holds it already).

        ``timeout`` may be a function, asked once the slot is leased: the time spent queueing
        is then not taken from the script (and the function may raise to give up the run).
        ``queue_wait`` on the result says how long the slot took to come.
        """
        if slot is not None:
            return await self._run(workspace, slot, timeout, env_extra, script)
        queued = time.monotonic()
        async with self.pool.lease() as leased:
            waited = time.monotonic() - queued
            result = await self._run(workspace, leased, timeout, env_extra, script)
        return result.model_copy(update={"queue_wait": waited})

    async def _run(
        self,
        workspace: Workspace,
        slot: SlotSpec,
        timeout: float | Callable[[], float],  # noqa: ASYNC109 - the script's limit
        env_extra: Mapping[str, str] | None,
        script: str | None,
    ) -> ExecutionResult:
        return await run_script(
            workspace,
            slot,
            self.sandbox,
            timeout=timeout() if callable(timeout) else timeout,
            python=self.python,
            memory_limit=self.settings.memory_limit,
            kill_grace=self.settings.kill_grace,
            output_cap=self.settings.output_cap,
            submission_cap=self.settings.submission_cap,
            env_extra=env_extra,
            cache_dir=self.cache_dir,
            network=self.network,
            script=script,
        )


def script_network(mode: str, sandbox: SandboxInfo) -> tuple[bool, str]:
    """Whether scripts can reach the network, and what says so (``execution.network``)."""
    if mode == "auto":
        if sandbox.network:
            return True, "no sandbox"
        return False, "the sandbox cuts the network"
    return mode == "on", "execution.network"
