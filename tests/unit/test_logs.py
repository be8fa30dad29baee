"""Structured logs: JSON lines in a file, each saying which run, worker and node wrote it."""

import asyncio
import io
import json
import re
from pathlib import Path

import pytest
import structlog

from mlmaster.logs import bind_ids, configure_logging, get_logger


async def test_concurrent_workers_each_stamp_their_ids(tmp_path: Path) -> None:
    log_file = tmp_path / "log.jsonl"
    console = io.StringIO()
    configure_logging("info", console="plain", json_file=log_file, stream=console)
    structlog.contextvars.clear_contextvars()
    bind_ids(run_id="run-1")

    async def worker(name: str) -> None:
        bind_ids(worker=name)  # a task's context is its own copy
        for step in range(3):
            bind_ids(node=f"{name}-n{step}")
            get_logger("test").info("step done", step=step)
            await asyncio.sleep(0)

    await asyncio.gather(*(worker(f"w{i}") for i in range(4)))
    get_logger("test").debug("hidden at info level")

    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert len(lines) == 12
    for line in lines:
        assert line["run_id"] == "run-1"
        assert line["node"].startswith(line["worker"] + "-")
        assert line["event"] == "step done"
        assert line["level"] == "info"
    assert "step done" in console.getvalue()
    assert "hidden" not in console.getvalue()
    structlog.contextvars.clear_contextvars()


def test_standard_library_logs_are_routed_too(tmp_path: Path) -> None:
    import logging

    log_file = tmp_path / "log.jsonl"
    console = io.StringIO()
    configure_logging("warning", console="json", json_file=log_file, stream=console)
    logging.getLogger("somelib").warning("careful")
    logging.getLogger("somelib").info("chatter")
    logging.getLogger("somelib").debug("noise")
    # The console shows the level asked for; the file keeps the record down to info.
    [shown] = [json.loads(x) for x in console.getvalue().splitlines()]
    assert shown["event"] == "careful"
    kept = [json.loads(x) for x in log_file.read_text().splitlines()]
    assert [k["event"] for k in kept] == ["careful", "chatter"]
    assert kept[0]["logger"] == "somelib"


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, as a person's is."""

    def isatty(self) -> bool:
        return True


def test_terminal_lines_keep_their_colours_whole_and_one_a_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    terminal = _Terminal()
    configure_logging("info", json_file=tmp_path / "log.jsonl", stream=terminal)
    long_value = "x" * 300  # wider than the console: the terminal wraps it, rich must not
    get_logger("test").info("first", detail=long_value)
    get_logger("test").info("second")
    first, second = terminal.getvalue().splitlines()
    assert "first" in first and long_value in first
    assert "\x1b[32m" in first  # the info level in green, as the renderer styled it
    assert "second" in second


def test_a_terminal_without_colours_gets_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    terminal = _Terminal()
    configure_logging("info", json_file=tmp_path / "log.jsonl", stream=terminal)
    get_logger("test").info("plain please", detail="y")
    [line] = terminal.getvalue().splitlines()
    assert "plain please" in line and "detail" in line
    assert "\x1b[32m" not in line and "\x1b[36m" not in line  # no colour codes


def test_a_logged_exception_shows_its_traceback_but_not_every_frame_s_locals(
    tmp_path: Path,
) -> None:
    console = io.StringIO()
    configure_logging("info", console="plain", json_file=tmp_path / "log.jsonl", stream=console)

    def failing_step() -> None:
        local_value = "LOCAL-" + "VALUE" * 3  # as rendered, it appears nowhere in the source
        raise ValueError(f"boom {len(local_value)}")

    try:
        failing_step()
    except ValueError:
        get_logger("test").exception("step_failed")
    shown = re.sub(r"\x1b\[[0-9;]*m", "", console.getvalue())  # the traceback's own colours
    assert "step_failed" in shown and "ValueError" in shown and "boom 21" in shown
    assert "failing_step" in shown  # the frames are there
    assert "LOCAL-VALUEVALUEVALUE" not in shown  # their locals are not
    [record] = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert "failing_step" in record["exception"]
