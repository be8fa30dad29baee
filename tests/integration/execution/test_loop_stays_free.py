"""Starting a script and stopping its tree never run on the event loop.

Forking this process and waiting for the exec takes milliseconds, and finding a tree's members
reads every process in ``/proc`` (tens of milliseconds on a busy machine): on the event loop
either would stall every other worker's step. These tests run real scripts and record which
thread started the process (Python's ``subprocess.Popen`` audit event) and touched the tree.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psutil
import pytest

from mlmaster.execution.interpreter import resolve_script_python
from mlmaster.execution.process_tree import ProcessTree
from mlmaster.execution.result import ExecutionResult
from mlmaster.execution.runner import run_script
from mlmaster.execution.sandbox import Launch, SandboxInfo
from mlmaster.execution.topology import SlotSpec
from mlmaster.execution.workspace import Workspace

MakeWs = Callable[[str], Workspace]

# Audit hooks cannot be removed: one is added for the session, recording only inside `spawns`.
_spawns: list[tuple[int, list[str]]] | None = None


def _note_spawn(event: str, args: tuple[Any, ...]) -> None:
    if _spawns is not None and event == "subprocess.Popen":
        _spawns.append((threading.get_ident(), [str(a) for a in args[1]]))


sys.addaudithook(_note_spawn)


@pytest.fixture
def spawns() -> Iterator[list[tuple[int, list[str]]]]:
    """(thread, argv) of every ``subprocess.Popen`` while the test runs."""
    global _spawns
    _spawns = []
    try:
        yield _spawns
    finally:
        _spawns = None


class RecordingTree(ProcessTree):
    """A real process tree that notes the thread of every call that reads or signals it."""

    def __init__(self, root_pid: int) -> None:
        super().__init__(root_pid)
        self.threads: dict[str, set[int]] = {}

    def _note(self, what: str) -> None:
        self.threads.setdefault(what, set()).add(threading.get_ident())

    def members(self) -> list[psutil.Process]:
        self._note("members")
        return super().members()

    def sample(self) -> int:
        self._note("sample")
        return super().sample()

    def signal(self, sig: signal.Signals) -> None:
        self._note("signal")
        super().signal(sig)

    def reap_orphans(self) -> None:
        self._note("reap_orphans")
        super().reap_orphans()


class Watched:
    """Runs the script as it is (the tests' own user), watched by a :class:`RecordingTree`."""

    info = SandboxInfo(name="watched", confined=False, user="the test's")

    def __init__(self) -> None:
        self.trees: list[RecordingTree] = []
        self.threads: dict[str, set[int]] = {}

    def _note(self, what: str) -> None:
        self.threads.setdefault(what, set()).add(threading.get_ident())

    def prepare(self, workspace: Workspace, slot: SlotSpec) -> None:
        self._note("prepare")

    def wrap(self, argv: Sequence[str], workspace: Workspace, slot: SlotSpec) -> Launch:
        self._note("wrap")
        return Launch(list(argv))

    def watch(self, pid: int, slot: SlotSpec) -> RecordingTree:
        self._note("watch")
        self.trees.append(RecordingTree(pid))
        return self.trees[-1]


# A child in a session of its own (out of the script's process group), then the script hangs.
HANGS_WITH_A_DAEMON = """\
import os, subprocess, time
child = subprocess.Popen(["sleep", "120"], start_new_session=True)
print("daemon", child.pid, flush=True)
time.sleep(120)
"""


async def test_the_tree_is_stopped_off_the_event_loop_and_nothing_survives(
    make_workspace: MakeWs,
):
    loop_thread = threading.get_ident()
    sandbox = Watched()
    workspace = make_workspace(HANGS_WITH_A_DAEMON)
    slot = SlotSpec(index=0, cpus=tuple(sorted(os.sched_getaffinity(0))))
    result = await run_script(
        workspace, slot, sandbox, timeout=3.0, python=resolve_script_python(None), kill_grace=0.3
    )
    assert result.killed_reason == "timeout", result.stderr.text
    daemon = int(result.stdout.text.split()[1])
    (tree,) = sandbox.trees
    # The stop polled the members, signalled them and reaped orphans, all in worker threads.
    assert {"members", "signal", "reap_orphans"} <= set(tree.threads)
    for what, threads in tree.threads.items():
        assert loop_thread not in threads, f"{what} ran on the event loop"
    # The guarantee holds off the loop too: the daemon that left the process group is dead.
    assert not _alive(daemon)
    assert not tree.members()


async def test_the_script_is_started_off_the_event_loop(
    make_workspace: MakeWs, spawns: list[tuple[int, list[str]]]
):
    loop_thread = threading.get_ident()
    sandbox = Watched()
    workspace = make_workspace("print('started')\n")
    result = await _run_on_first_slot(workspace, sandbox)
    assert result.exit_code == 0 and result.stdout.text == "started\n", result.stderr.text
    [thread] = [t for t, argv in spawns if str(workspace.script_path) in argv]
    assert thread != loop_thread, "the script's process was started on the event loop"
    # The sandbox's preparation and the tree's first look at the process were off it too.
    for what in ("prepare", "wrap", "watch"):
        assert sandbox.threads[what] and loop_thread not in sandbox.threads[what], what


async def test_a_script_that_exits_by_itself_is_cleaned_up_off_the_event_loop(
    make_workspace: MakeWs,
):
    loop_thread = threading.get_ident()
    sandbox = Watched()
    result = await _run_on_first_slot(make_workspace("print('done')\n"), sandbox)
    assert result.exit_code == 0, result.stderr.text
    assert result.stdout.text == "done\n"
    (tree,) = sandbox.trees
    assert {"members", "signal", "reap_orphans"} <= set(tree.threads)
    for what, threads in tree.threads.items():
        assert loop_thread not in threads, f"{what} ran on the event loop"


async def _run_on_first_slot(workspace: Workspace, sandbox: Watched) -> ExecutionResult:
    slot = SlotSpec(index=0, cpus=tuple(sorted(os.sched_getaffinity(0))))
    return await run_script(
        workspace, slot, sandbox, timeout=60, python=resolve_script_python(None), kill_grace=0.3
    )


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
