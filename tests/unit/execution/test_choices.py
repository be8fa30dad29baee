"""Choosing the sandbox and the scripts' interpreter from settings."""

from __future__ import annotations

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
from mlmaster.execution.sandbox import resolve_sandbox


def _broken_bwrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = tmp_path / "bin" / "bwrap"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tool.parent))


def test_auto_falls_back_to_none_with_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _broken_bwrap(tmp_path, monkeypatch)
    with capture_logs() as logs:
        assert resolve_sandbox("auto") == ("none", None)
    [warning] = [e for e in logs if e["event"] == "sandbox_unavailable"]
    assert warning["log_level"] == "warning" and "new namespace" in warning["reason"]


def test_bwrap_demanded_but_broken_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _broken_bwrap(tmp_path, monkeypatch)
    with pytest.raises(UserError, match=r"set execution\.sandbox = none"):
        resolve_sandbox("bwrap")


def test_bwrap_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match="not installed"):
        resolve_sandbox("bwrap")
    assert resolve_sandbox("none") == ("none", None)


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
