"""The sandbox seam: a sandbox registered by name is chosen by settings and run by the runner."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import psutil
import pytest

import mlmaster.execution.sandbox as sandbox_module
from mlmaster.execution.process_tree import ProcessTree
from mlmaster.execution.runner import Executor
from mlmaster.execution.sandbox import Launch, SandboxContext, SandboxInfo
from mlmaster.execution.topology import SlotSpec
from mlmaster.execution.workspace import Workspace
from mlmaster.settings.model import ExecutionSettings


class Tagging:
    """A stand-in for a new sandbox: it prefixes the command, as a container runtime would."""

    def __init__(self, context: SandboxContext) -> None:
        self.context = context
        self.prepared: list[Path] = []
        self.info = SandboxInfo(name="tagging", confined=False, user="the test's")

    def prepare(self, workspace: Workspace, slot: SlotSpec) -> None:
        self.prepared.append(workspace.root)

    def wrap(self, argv: Sequence[str], workspace: Workspace, slot: SlotSpec) -> Launch:
        return Launch(["/usr/bin/env", f"SANDBOX_TAG=slot{slot.index}", *argv])

    def watch(self, pid: int, slot: SlotSpec) -> ProcessTree:
        return ProcessTree(pid)


async def test_a_registered_sandbox_runs_scripts_without_touching_the_runner(
    monkeypatch: pytest.MonkeyPatch, make_workspace: Callable[[str], Workspace]
):
    with pytest.raises(ValueError, match="unknown sandbox 'tagging'"):
        ExecutionSettings(sandbox="tagging")
    monkeypatch.setitem(sandbox_module._REGISTRY, "tagging", Tagging)
    executor = Executor(ExecutionSettings(sandbox="tagging", kill_grace=0.3))
    assert executor.hardware().sandbox.name == "tagging"
    workspace = make_workspace("import os\nprint(os.environ['SANDBOX_TAG'])\n")
    result = await executor.run(workspace, timeout=60)
    assert result.exit_code == 0, result.stderr.text
    assert result.stdout.text == "slot0\n"
    assert isinstance(executor.sandbox, Tagging)
    assert executor.sandbox.prepared == [workspace.root]
    # The runner's guarantees hold through it: an overstaying script is killed.
    sleeper = make_workspace("import time\ntime.sleep(60)\n")
    result = await executor.run(sleeper, timeout=1.0)
    assert result.killed_reason == "timeout" and result.exit_code is None


class Blind(Tagging):
    """A sandbox that fails to watch what it started."""

    def watch(self, pid: int, slot: SlotSpec) -> ProcessTree:
        raise RuntimeError("cannot watch it")


async def test_a_script_its_sandbox_cannot_watch_is_killed_not_left_running(
    monkeypatch: pytest.MonkeyPatch, make_workspace: Callable[[str], Workspace]
):
    monkeypatch.setitem(sandbox_module._REGISTRY, "blind", Blind)
    executor = Executor(ExecutionSettings(sandbox="blind", kill_grace=0.3))
    workspace = make_workspace("import time\ntime.sleep(60)\n")
    token = str(workspace.script_path)  # on the script's command line
    with pytest.raises(RuntimeError, match="cannot watch it"):
        await executor.run(workspace, timeout=60)
    assert not [
        p for p in psutil.process_iter(["cmdline"]) if token in " ".join(p.info["cmdline"] or [])
    ]
    assert executor.pool.busy == 0  # the slot came back
