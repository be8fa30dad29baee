"""Whether bubblewrap can confine the scripts' Python here, for tests that need the sandbox."""

from __future__ import annotations

import shutil

from mlmaster.execution.interpreter import interpreter_roots, resolve_script_python
from mlmaster.execution.sandbox import SandboxContext
from mlmaster.execution.sandboxes.bwrap import probe


def bwrap_problem() -> str | None:
    """Why bwrap cannot run the scripts' Python as uid 65534 in a user namespace, or None."""
    found = shutil.which("bwrap")
    if found is None:
        return "bwrap is not installed"
    python = resolve_script_python(None)
    context = SandboxContext(python, interpreter_roots(python), 65534, 65534)
    return probe(found, context, user_namespace=True)
