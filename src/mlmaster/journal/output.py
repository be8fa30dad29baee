"""``--output``: the copy of the best submission a run leaves outside its run directory.

The path is the setting ``run.output``, given as ``--output``, ``MLMASTER_RUN__OUTPUT`` or in a
profile; messages name it both ways (:data:`SETTING`) so every user recognises theirs.

The path is checked before the search starts, so a typo costs seconds, not the budget; the copy
is made last, after the run's own files (``run_ended``, the report) are safe, and a failure to
make it is one line.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from mlmaster.errors import UserError

SETTING = "--output (run.output)"


class OutputError(UserError):
    """The submission cannot be written where ``--output`` says."""


def check_output(output: Path) -> None:
    """Refuse, in one line, an ``--output`` the run could not write at its end."""
    if output.is_dir():
        raise OutputError(
            f"{SETTING} {output} is a folder; give a file path, e.g. {output / 'submission.csv'}"
        )
    if output.exists() and not output.is_file():
        raise OutputError(f"{SETTING} {output} exists and is not a regular file")
    folder = _nearest_existing(output.parent)
    if not folder.is_dir():
        raise OutputError(f"{SETTING} {output}: {folder} is not a folder")
    if folder == output.parent:
        _probe_writable(folder, output)
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{SETTING} {output}: cannot create folders in {folder}")


def export_submission(source: Path, output: Path) -> None:
    """Copy ``source`` to ``output`` whole: readers never see a half-copied file."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, staging = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
        os.close(fd)
        try:
            shutil.copyfile(source, staging)
            os.replace(staging, output)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise OutputError(
            f"could not copy the best submission to {output} ({SETTING}): {reason}; "
            f"it is in {source}"
        ) from None


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _probe_writable(folder: Path, output: Path) -> None:
    """Create and remove a file beside ``output``: the only sure test (root passes access())."""
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{output.name}.check.", dir=folder)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise OutputError(f"{SETTING} {output}: cannot write in {folder}: {reason}") from None
    os.close(fd)
    os.unlink(probe)
