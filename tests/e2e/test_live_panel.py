"""The live panel on a real terminal: `mlmaster run` inside a tmux pane of 150 x 40.

The screen is read back from tmux itself (its own terminal emulator), so the test sees what a
person sees: one panel redrawn in place at the bottom, the log lines scrolling above it.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

TITLE = "mlmaster · digits"


def _screen(socket: str) -> str:
    done = subprocess.run(
        ["tmux", "-L", socket, "capture-pane", "-p", "-t", "panel"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout


def test_the_panel_redraws_in_place_below_the_log_lines(
    suite_dir: Path, tmp_path: Path, cli: Any
) -> None:
    socket = f"mlmaster-test-{uuid.uuid4().hex[:8]}"
    command = cli.argv(
        "run",
        "digits",
        "--profile",
        "ci",
        "--data-dir",
        str(suite_dir),
        "--runs-dir",
        str(tmp_path / "runs"),
        "--time-limit",
        "60s",
    )
    env = {k: v for k, v in cli.env(TERM="xterm-256color").items() if k not in ("COLUMNS", "LINES")}
    pane = ["new-session", "-d", "-s", "panel", "-x", "150", "-y", "40"]
    subprocess.run(
        ["tmux", "-L", socket, "-f", "/dev/null", *pane, "--", *command],
        env=env,
        check=True,
        timeout=30,
    )
    try:
        # Wait until a node has committed (a log line was written while the panel was up) and
        # the panel has been redrawn several times since.
        deadline = time.monotonic() + 180
        screen = ""
        while time.monotonic() < deadline:
            screen = _screen(socket)
            if "node_committed" in screen and "1 done" not in screen and TITLE in screen:
                break
            time.sleep(0.5)
        assert "node_committed" in screen, screen
        time.sleep(2.0)  # four more refreshes
        screen = _screen(socket)
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=30)

    lines = screen.splitlines()
    titles = [i for i, line in enumerate(lines) if TITLE in line]
    assert len(titles) == 1, screen
    tops = [i for i, line in enumerate(lines) if line.lstrip().startswith("┌")]
    assert tops == [titles[0] + 1], screen
    logs = [i for i, line in enumerate(lines) if "node_committed" in line]
    assert logs and max(logs) < titles[0], screen  # the log lines sit above the panel
    assert "elapsed" in screen and "per hour" in screen and "workers" in screen
