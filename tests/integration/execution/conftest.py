"""Fixtures for running real scripts: a competition's public folder, workspaces, executors."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from exec_support import UNSANDBOXED_PYTHON

from mlmaster.execution.runner import Executor
from mlmaster.execution.workspace import Workspace
from mlmaster.settings.model import ExecutionSettings


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A scratch folder every user may search: unsandboxed scripts run as another user when
    the tests run as root, and pytest's own temporary folders are closed to other users."""
    path = Path(tempfile.mkdtemp(prefix="mlmaster-exec-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def public_dir(open_tmp: Path) -> Path:
    public = open_tmp / "data" / "comp" / "prepared" / "public"
    public.mkdir(parents=True)
    (public / "train.csv").write_text("id,x,y\n1,0.5,1\n2,0.1,0\n")
    return public


@pytest.fixture
def make_workspace(open_tmp: Path, public_dir: Path) -> Callable[[str], Workspace]:
    def make(code: str) -> Workspace:
        node = open_tmp / "run" / "nodes" / uuid.uuid4().hex[:8]
        ws = Workspace.create(node / "workspace", public_dir)
        ws.write_script(code)
        return ws

    return make


@pytest.fixture
def make_executor() -> Callable[..., Executor]:
    def make(sandbox: str = "none", **kwargs: Any) -> Executor:
        topology = {k: kwargs.pop(k) for k in ("cpus", "gpus") if k in kwargs}
        if sandbox == "none" and "python" not in kwargs:
            if UNSANDBOXED_PYTHON is None:
                pytest.skip("no Python the unprivileged script user can start")
            kwargs["python"] = UNSANDBOXED_PYTHON
        settings = ExecutionSettings(sandbox=sandbox, kill_grace=0.3, **kwargs)
        return Executor(settings, **topology)

    return make
