"""Fixtures for running real scripts: a competition's public folder, workspaces, executors."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlmaster.execution.runner import Executor
from mlmaster.execution.workspace import Workspace
from mlmaster.settings.model import ExecutionSettings


@pytest.fixture
def public_dir(tmp_path: Path) -> Path:
    public = tmp_path / "data" / "comp" / "prepared" / "public"
    public.mkdir(parents=True)
    (public / "train.csv").write_text("id,x,y\n1,0.5,1\n2,0.1,0\n")
    return public


@pytest.fixture
def make_workspace(tmp_path: Path, public_dir: Path) -> Callable[[str], Workspace]:
    def make(code: str) -> Workspace:
        ws = Workspace.create(tmp_path / "run" / "nodes" / uuid.uuid4().hex[:8], public_dir)
        ws.write_script(code)
        return ws

    return make


@pytest.fixture
def make_executor() -> Callable[..., Executor]:
    def make(sandbox: str = "none", **kwargs: Any) -> Executor:
        topology = {k: kwargs.pop(k) for k in ("cpus", "gpus") if k in kwargs}
        settings = ExecutionSettings(sandbox=sandbox, kill_grace=0.3, **kwargs)
        return Executor(settings, **topology)

    return make
