"""What the execution tests share beyond fixtures: whether bubblewrap can run here."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from mlmaster.execution.interpreter import resolve_script_python
from mlmaster.testing.bwrap import bwrap_problem

BWRAP_PROBLEM = bwrap_problem()
needs_bwrap = pytest.mark.skipif(
    BWRAP_PROBLEM is not None, reason=f"bubblewrap unusable here: {BWRAP_PROBLEM}"
)


def _runs_as_script_user(python: str) -> bool:
    try:
        done = subprocess.run(
            [python, "-I", "-c", "pass"],
            user=65534,
            group=65534,
            extra_groups=[],
            cwd="/",
            capture_output=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0


def _unsandboxed_python() -> str | None:
    """An interpreter unsandboxed scripts can start: as root they run as uid 65534, and the
    scripts' own Python may sit where that user cannot read (a pyenv under /root)."""
    scripts = str(resolve_script_python(None))
    if os.geteuid() != 0:
        return scripts
    for candidate in (scripts, shutil.which("python3", path="/usr/bin:/bin")):
        if candidate and _runs_as_script_user(candidate):
            return candidate
    return None


# None: no interpreter the unprivileged user can start, so no unsandboxed run is possible here.
UNSANDBOXED_PYTHON = _unsandboxed_python()
# Whether unsandboxed scripts have the scripts' ML stack (pandas, scikit-learn ...).
UNSANDBOXED_HAS_STACK = str(resolve_script_python(None)) == UNSANDBOXED_PYTHON
needs_unsandboxed = pytest.mark.skipif(
    UNSANDBOXED_PYTHON is None, reason="no Python the unprivileged script user can start"
)
SANDBOXES = [
    pytest.param("none", marks=needs_unsandboxed),
    pytest.param("bwrap", marks=needs_bwrap),
]
