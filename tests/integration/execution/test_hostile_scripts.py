"""Hostile scripts, run for real: what they try to reach and what mlmaster keeps of their work.

Each script is the attacker. It reports, as JSON on stdout, what it managed; the tests assert it
managed nothing it must not: no capability, no remount, no read of the private answers or of
the orchestrator's environment, no write outside its workspace, no network, and no file it left
(a link, a FIFO, a hard link, gigabytes) ever becomes the node's submission.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import psutil
import pytest
from exec_support import SANDBOXES, needs_bwrap, needs_unsandboxed

from mlmaster.execution.interpreter import interpreter_roots, resolve_script_python
from mlmaster.execution.result import ExecutionResult
from mlmaster.execution.runner import Executor, run_script
from mlmaster.execution.sandbox import SandboxContext
from mlmaster.execution.sandboxes.bwrap import BwrapSandbox, probe
from mlmaster.execution.sandboxes.unsandboxed import Unsandboxed
from mlmaster.execution.topology import SlotSpec
from mlmaster.execution.workspace import Workspace

MakeWs = Callable[[str], Workspace]
MakeEx = Callable[..., Executor]

SECRET = f"sk-{uuid.uuid4().hex}"

# What the script tries, each attempt recorded as "ok" (it worked) or the error it met.
ATTACK = """\
import ctypes, json, os, socket, sys
private, public, run_dir, orchestrator, port, secret = ARGS
found = {}

def attempt(name, action):
    # "ok": it worked; "clean": it read something, but no secret in it; else the error met.
    try:
        value = action()
        found[name] = "clean" if isinstance(value, str) and secret not in value else "ok"
    except Exception as exc:
        found[name] = type(exc).__name__

found["uid"] = os.getuid()
found["cap_eff"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
attempt("read_private", lambda: open(private).read())
attempt("read_orchestrator_environ", lambda: open(f"/proc/{orchestrator}/environ").read())
attempt("read_parent_environ", lambda: open(f"/proc/{os.getppid()}/environ").read())
attempt("read_init_environ", lambda: open("/proc/1/environ").read())
def write(path):
    with open(path, "w") as out:
        out.write("x")
attempt("write_public", lambda: write(os.path.join(public, "planted.csv")))
attempt("write_run_dir", lambda: write(os.path.join(run_dir, "planted.txt")))
attempt("write_usr", lambda: write("/usr/planted"))
attempt("write_workspace", lambda: write("working/mine.txt"))
libc = ctypes.CDLL(None, use_errno=True)
def remount():
    if libc.mount(None, public.encode(), None, 32 | 4096, None) != 0:  # MS_REMOUNT | MS_BIND
        raise OSError(ctypes.get_errno(), "mount")
attempt("remount_public_rw", remount)
def connect():
    socket.create_connection(("127.0.0.1", int(port)), timeout=2).close()
attempt("connect_loopback", connect)
print(json.dumps(found))
"""


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.setblocking(False)
    yield sock
    sock.close()


@pytest.fixture
def private_answers(public_dir: Path) -> Path:
    answers = public_dir.parent / "private" / "answers.csv"
    answers.parent.mkdir()
    answers.write_text("id,y\n1,1\n2,0\n")
    return answers


def _attack(ws: Workspace, answers: Path, port: int) -> str:
    args = [str(answers), str(ws.public_dir), str(ws.root.parent), str(os.getpid()), str(port)]
    args.append(SECRET)
    return f"ARGS = {args!r}\n{ATTACK}"


def _report(stdout: str, stderr: str) -> dict[str, object]:
    assert stdout.strip(), stderr
    return json.loads(stdout.strip().splitlines()[-1])


def _assert_contained(found: dict[str, object], ws: Workspace, uid: int = 65534) -> None:
    assert found["uid"] == uid
    assert int(str(found["cap_eff"]), 16) == 0, "the script holds capabilities"
    # Reads: nothing secret came back (a sandbox's own /proc/1 is its init, with a clean
    # environment). Writes: checked on the host, since a sandbox's private tmpfs may accept them.
    for key in ("read_orchestrator_environ", "read_parent_environ", "read_init_environ"):
        assert found[key] != "ok", f"{key} leaked the secret: {found}"
    assert found["read_private"] not in ("ok", "clean"), f"the answers were read: {found}"
    assert found["remount_public_rw"] != "ok", found
    assert found["write_workspace"] == "ok", found
    assert not (ws.public_dir / "planted.csv").exists()
    assert not (ws.root.parent / "planted.txt").exists()
    assert not Path("/usr/planted").exists()


@needs_bwrap
async def test_root_inside_bubblewrap_holds_nothing(
    make_executor: MakeEx,
    make_workspace: MakeWs,
    private_answers: Path,
    listener: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("MLMASTER_LLM__CODER__API_KEY", SECRET)
    ws = make_workspace("")
    ws.write_script(_attack(ws, private_answers, listener.getsockname()[1]))
    result = await make_executor("bwrap").run(ws, timeout=60)
    found = _report(result.stdout.text, result.stderr.text)
    _assert_contained(found, ws)
    assert found["connect_loopback"] != "ok"
    assert SECRET not in result.stdout.text
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing ever arrived


@pytest.mark.skipif(os.geteuid() != 0, reason="the fallback is for root without user namespaces")
@needs_bwrap
async def test_bubblewrap_without_user_namespace_still_drops_to_the_script_user(
    make_workspace: MakeWs, private_answers: Path, listener: socket.socket
):
    python = resolve_script_python(None)
    context = SandboxContext(python, interpreter_roots(python), 65534, 65534)
    binary = shutil.which("bwrap")
    assert binary is not None
    if probe(binary, context, user_namespace=False) is not None:
        pytest.skip("bwrap cannot build namespaces without a user namespace here")
    sandbox = BwrapSandbox(context, binary, user_namespace=False)
    ws = make_workspace("")
    ws.write_script(_attack(ws, private_answers, listener.getsockname()[1]))
    slot = SlotSpec(index=0, cpus=tuple(sorted(os.sched_getaffinity(0))))
    result = await run_script(ws, slot, sandbox, timeout=60, python=python, kill_grace=0.3)
    found = _report(result.stdout.text, result.stderr.text)
    _assert_contained(found, ws)
    assert found["connect_loopback"] != "ok"


@pytest.mark.skipif(os.geteuid() != 0, reason="scripts switch user only when mlmaster is root")
@needs_unsandboxed
async def test_unsandboxed_as_root_the_script_is_another_user(
    make_executor: MakeEx,
    make_workspace: MakeWs,
    private_answers: Path,
    listener: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("MLMASTER_LLM__CODER__API_KEY", SECRET)
    ws = make_workspace("")
    ws.write_script(_attack(ws, private_answers, listener.getsockname()[1]))
    executor = make_executor("none")
    assert not executor.hardware().sandbox.confined
    result = await executor.run(ws, timeout=60)
    found = _report(result.stdout.text, result.stderr.text)
    # Another run on this host (a parallel test worker) may hold 65534: the next free uid then.
    assert isinstance(executor.sandbox, Unsandboxed)
    _assert_contained(found, ws, executor.sandbox.claims.held()[0])
    assert found["read_orchestrator_environ"] == "PermissionError"
    assert found["read_private"] == "PermissionError"
    assert SECRET not in result.stdout.text


# --- what a script leaves behind -------------------------------------------------------------


def _planted(link: Path, target: str) -> bool:
    """Whether ``link`` is a link that, followed on the host, reaches an existing ``target``."""
    return link.is_symlink() and os.readlink(link) == target and link.resolve().exists()


PLANT_LINK = """\
import os
os.symlink({target!r}, "submission/submission.csv")
"""


@pytest.mark.parametrize("sandbox", SANDBOXES)
@pytest.mark.parametrize("target", ["private", "/proc/1/environ", "/etc/passwd"])
async def test_a_linked_submission_is_never_followed(
    sandbox: str,
    target: str,
    make_executor: MakeEx,
    make_workspace: MakeWs,
    private_answers: Path,
):
    ws = make_workspace("")
    if target == "private":  # a relative link, as a script would write it
        target = "../../../../../data/comp/prepared/private/answers.csv"
    ws.write_script(PLANT_LINK.format(target=target))
    ws.kept_submission.write_text("stale copy from before\n")
    result = await make_executor(sandbox).run(ws, timeout=60)
    assert result.exit_code == 0, result.stderr.text
    assert _planted(ws.submission_file, target), "the script did not plant its link"
    assert result.submission_path is None
    assert result.submission_problem == ("submission/submission.csv is a symbolic link: ignored")
    assert not ws.kept_submission.exists()


@pytest.mark.parametrize("sandbox", SANDBOXES)
async def test_a_linked_submission_folder_is_never_followed(
    sandbox: str, make_executor: MakeEx, make_workspace: MakeWs, private_answers: Path
):
    code = (
        "import os, shutil\n"
        "os.makedirs('working/fake'); open('working/fake/submission.csv', 'w').write('id\\n')\n"
        "shutil.rmtree('submission'); os.symlink('working/fake', 'submission')\n"
    )
    ws = make_workspace(code)
    result = await make_executor(sandbox).run(ws, timeout=60)
    assert result.exit_code == 0, result.stderr.text
    assert result.submission_path is None
    assert result.submission_problem == "submission is a symbolic link: ignored"


@pytest.mark.parametrize("sandbox", SANDBOXES)
async def test_a_fifo_hard_link_or_folder_is_refused_without_hanging(
    sandbox: str, make_executor: MakeEx, make_workspace: MakeWs
):
    executor = make_executor(sandbox)
    cases = {
        "os.mkfifo('submission/submission.csv')": "not a regular file (a FIFO)",
        "os.mkdir('submission/submission.csv')": "not a regular file (a folder)",
        (
            "open('working/a.csv', 'w').write('id\\n1\\n')\n"
            "os.link('working/a.csv', 'submission/submission.csv')"
        ): "has 2 hard links",
    }
    for plant, problem in cases.items():
        ws = make_workspace(f"import os\n{plant}\n")
        result = await executor.run(ws, timeout=60)
        assert result.exit_code == 0, result.stderr.text
        assert result.submission_path is None
        assert result.submission_problem is not None and problem in result.submission_problem


@pytest.mark.parametrize("sandbox", SANDBOXES)
async def test_an_oversized_submission_is_refused_and_a_fair_one_copied(
    sandbox: str, make_executor: MakeEx, make_workspace: MakeWs
):
    executor = make_executor(sandbox, submission_cap=4096)
    big = make_workspace("open('submission/submission.csv', 'w').write('id\\n' + '1\\n' * 5000)\n")
    result = await executor.run(big, timeout=60)
    assert result.submission_path is None
    assert result.submission_problem is not None
    assert "over execution.submission_cap (4096 bytes)" in result.submission_problem
    fair = make_workspace("open('submission/submission.csv', 'w').write('id\\n1\\n')\n")
    result = await executor.run(fair, timeout=60)
    assert result.submission_path == fair.kept_submission
    assert result.submission_path.read_text() == "id\n1\n"
    assert not result.submission_path.is_symlink()


ESCAPE = """\
import os, sys, time
if os.fork() == 0:  # a daemon: new session, parent gone, nobody's descendant
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(1000)", TOKEN])
    os._exit(0)
time.sleep(0.5)
print("uid", os.getuid())
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="scripts switch user only when mlmaster is root")
@needs_unsandboxed
async def test_unsandboxed_each_slot_has_its_uid_and_an_escaped_daemon_dies(
    make_executor: MakeEx, make_workspace: MakeWs
):
    token = f"tok-{uuid.uuid4().hex}"
    executor = make_executor("none", slots=2, cpus=[0, 1], gpus=[])
    ws = make_workspace(f"TOKEN = {token!r}\n{ESCAPE}")
    result = await executor.run(ws, timeout=60, slot=executor.pool.slots[1])
    assert result.exit_code == 0, result.stderr.text
    assert isinstance(executor.sandbox, Unsandboxed)
    first, second = (executor.sandbox.uid(slot) for slot in executor.pool.slots)
    assert first != second and min(first, second) >= 65534
    assert result.stdout.text == f"uid {second}\n"
    assert _owner_and_mode(ws.root) == (second, 0o700), "the workspace is open to other slots"
    assert _processes_with(token) == [], "a daemon outlived its script"


@pytest.mark.skipif(os.geteuid() != 0, reason="scripts switch user only when mlmaster is root")
@needs_unsandboxed
async def test_two_unsandboxed_runs_on_one_host_never_kill_each_others_scripts(
    make_executor: MakeEx, make_workspace: MakeWs
):
    # Two runs (two executors, as a local sweep or a second user would have) from the same
    # script_uid: ending one's script kills every process of its uid, so they must not share one.
    token = f"tok-{uuid.uuid4().hex}"
    one = make_executor("none", slots=1, cpus=[0], gpus=[])
    other = make_executor("none", slots=1, cpus=[1], gpus=[])
    assert isinstance(one.sandbox, Unsandboxed) and isinstance(other.sandbox, Unsandboxed)
    assert set(one.sandbox.claims.held()).isdisjoint(other.sandbox.claims.held())
    slow = make_workspace(
        f"import sys, time\nTOKEN = {token!r}\ntime.sleep(3)\nprint('survived', flush=True)\n"
    )
    quick = make_workspace("print('done')\n")
    async with anyio.create_task_group() as tg:
        outcome: dict[str, ExecutionResult] = {}

        async def run_slow() -> None:
            outcome["slow"] = await one.run(slow, timeout=60)

        tg.start_soon(run_slow)
        await anyio.sleep(1.0)  # the slow script is running when the other run's script ends
        assert (await other.run(quick, timeout=60)).exit_code == 0
    assert outcome["slow"].exit_code == 0, outcome["slow"].stderr.text
    assert outcome["slow"].stdout.text == "survived\n"


def _owner_and_mode(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_uid, info.st_mode & 0o777


def _processes_with(token: str) -> list[int]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if token in " ".join(proc.info["cmdline"] or []):
            found.append(proc.pid)
    return found
