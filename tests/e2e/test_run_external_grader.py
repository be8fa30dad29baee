"""`mlmaster run` against an external grader (`mlmaster serve`, as MLE-bench runs its own) that
goes down during the run and comes back: the nodes wait for their verdicts and none is called
invalid for it."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from mlmaster.journal import NodeCommitted, read_events


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(cli: Any, suite_dir: Path, port: int) -> subprocess.Popen[str]:
    process: subprocess.Popen[str] = cli.start(
        "serve", "digits", "--data-dir", str(suite_dir), "--port", str(port)
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the grader did not come up"
        time.sleep(0.1)


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.communicate(timeout=30)


def test_a_grader_down_mid_run_is_waited_for(suite_dir: Path, tmp_path: Path, cli: Any) -> None:
    port = _free_port()
    runs = tmp_path / "runs"
    grader = _serve(cli, suite_dir, port)
    run = cli.start(
        *("run", "digits", "--profile", "ci", "--data-dir", str(suite_dir)),
        *("--runs-dir", str(runs), "--max-steps", "3", "--time-limit", "4m"),
        MLMASTER_GRADER__URL=f"http://127.0.0.1:{port}",
    )
    try:
        deadline = time.monotonic() + 120
        while not list(runs.glob("digits/*/journal.jsonl")):  # the run passed its health check
            assert run.poll() is None, run.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the run did not start"
            time.sleep(0.1)
        _stop(grader)  # down before any node reaches validation
        time.sleep(6)
        grader = _serve(cli, suite_dir, port)
        _, stderr = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
        _stop(grader)
    assert run.returncode == 0, stderr[-3000:]
    journal = next(runs.glob("digits/*/journal.jsonl"))
    nodes = [e.node for e in read_events(journal) if isinstance(e, NodeCommitted)]
    assert len(nodes) == 3
    assert not [n for n in nodes if "invalid submission" in (n.bug_reason or "")]
    assert not [n for n in nodes if "validation unavailable" in (n.bug_reason or "")]
    assert any(n.valid_submission for n in nodes)
    log = (journal.parent / "log.jsonl").read_text()
    assert "validation_unavailable" in log and "validation_recovered" in log
