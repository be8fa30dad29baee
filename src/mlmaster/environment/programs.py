"""The command-line programs a script can call: its ``PATH``, and which useful tools are on it.

A script's environment is built from scratch (:func:`mlmaster.execution.runner.script_env`);
its ``PATH`` is defined here, once, so what the prompt says is on it is what the script finds.
The sandbox mounts ``/usr``, ``/bin`` and the interpreter's folders, so a program found on
this ``PATH`` on the host is there for the script too.

Only programs a solution has a reason to call are looked for: the 7z family, because
MLE-bench ships some competitions' data as ``.7z`` archives and Python's standard library
cannot open them (zip, gzip and tar it can).
"""

from __future__ import annotations

import shutil
from pathlib import Path

# Programs worth telling a script about, in the order a script should prefer them.
USEFUL_PROGRAMS = ("7z", "7za", "7zr")


def scripts_path(python: Path) -> str:
    """The ``PATH`` a script runs with: its interpreter's folder first, then the system's."""
    return f"{python.parent}:/usr/local/bin:/usr/bin:/bin"


def find_programs(search_path: str, names: tuple[str, ...] = USEFUL_PROGRAMS) -> list[str]:
    """The ``names`` that resolve to an executable file on ``search_path``, in that order."""
    return [name for name in names if shutil.which(name, path=search_path)]
