"""One process per run directory, tested with real processes holding the lock."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlmaster.journal import RunDir, RunDirBusy

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mlmaster.journal import RunDir
    lock = RunDir(Path(sys.argv[1])).lock()
    print("locked", flush=True)
    time.sleep(120)
    """
)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process that holds ``tmp_path`` as its run directory."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # generous: the child imports the package first
        if line.strip() == "locked":
            break
    else:
        raise AssertionError(f"the holder never took the lock (exit {proc.wait()})")
    yield proc
    proc.kill()
    proc.wait()


def test_a_second_process_is_refused_naming_the_holder(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(RunDirBusy) as refused:
        RunDir(tmp_path).lock()
    message = str(refused.value)
    assert f"process {holder.pid} on {socket.gethostname()} (since " in message
    assert str(tmp_path) in message and "\n" not in message
    written = json.loads((tmp_path / "run.lock").read_text())
    assert written["pid"] == holder.pid


def test_the_lock_dies_with_its_holder(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    with RunDir(tmp_path).lock():  # no stale lock to clean up by hand
        written = json.loads((tmp_path / "run.lock").read_text())
    assert written["pid"] != holder.pid


def test_a_released_lock_can_be_taken_again(tmp_path: Path) -> None:
    first = RunDir(tmp_path).lock()
    first.release()
    with RunDir(tmp_path).lock():
        pass
