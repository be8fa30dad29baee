"""Choosing the sandbox and the scripts' interpreter from settings."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from mlmaster.errors import UserError
from mlmaster.execution.interpreter import (
    SCRIPTS_VENV,
    interpreter_roots,
    resolve_script_python,
)
from mlmaster.execution.sandbox import SandboxContext, resolve_sandbox
from mlmaster.settings.model import ExecutionSettings

_CONTEXT = SandboxContext(python=Path("/usr/bin/python3"), python_roots=(), uid=65534, gid=65534)


def _broken_bwrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = tmp_path / "bin" / "bwrap"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tool.parent))


def test_auto_falls_back_to_none_with_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _broken_bwrap(tmp_path, monkeypatch)
    with capture_logs() as logs:
        sandbox = resolve_sandbox("auto", _CONTEXT)
    assert sandbox.info.name == "none" and not sandbox.info.confined
    [warning] = [e for e in logs if e["event"] == "sandbox_unavailable"]
    assert warning["log_level"] == "warning" and "new namespace" in warning["reason"]


def test_bwrap_demanded_but_broken_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _broken_bwrap(tmp_path, monkeypatch)
    with pytest.raises(UserError, match=r"set execution\.sandbox = none"):
        resolve_sandbox("bwrap", _CONTEXT)


def test_bwrap_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match="not installed"):
        resolve_sandbox("bwrap", _CONTEXT)
    assert resolve_sandbox("none", _CONTEXT).info.name == "none"


def test_settings_accept_registered_sandboxes_only():
    assert ExecutionSettings(sandbox="bwrap").sandbox == "bwrap"
    with pytest.raises(ValueError, match="unknown sandbox 'docker'; use auto or one of: bwrap"):
        ExecutionSettings(sandbox="docker")


def test_configured_python_must_exist(tmp_path: Path):
    with pytest.raises(UserError, match="does not exist"):
        resolve_script_python(tmp_path / "python9")


def test_default_python_is_the_scripts_environment():
    if not SCRIPTS_VENV.exists():
        pytest.skip("the scripts' environment is not installed (make install)")
    python = resolve_script_python(None)
    assert python == SCRIPTS_VENV / "bin" / "python"
    roots = interpreter_roots(python)
    assert SCRIPTS_VENV in roots


@pytest.mark.skipif(os.geteuid() != 0, reason="scripts switch user only when mlmaster is root")
def test_unsandboxed_as_root_refuses_a_python_the_script_user_cannot_start(tmp_path: Path):
    hidden = tmp_path / "closed"
    hidden.mkdir(mode=0o700)
    (hidden / "python").symlink_to("/usr/bin/python3")
    context = SandboxContext(python=hidden / "python", python_roots=(), uid=65534, gid=65534)
    with pytest.raises(UserError, match=r"cannot start .* as that user.*install bubblewrap"):
        resolve_sandbox("none", context)
