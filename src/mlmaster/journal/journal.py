"""The append-only event journal: one JSON event a line, written whole and fsynced.

A run can be killed at any instant (SIGKILL, power loss, a full disk). Each event is written
with one ``write`` and fsynced before the step that produced it is considered done, so after a
crash the journal holds every committed event and at most one half-written last line. Opening
the journal for appending cuts that torn tail off first (the next event must start on a line
of its own), and a write that fails half way is cut back the same way.

Reading never stops at a bad line: a line that is not JSON, not an event, of an unknown kind or
of the wrong shape, or that commits a node a second time, is skipped with a warning naming it,
and every other event is kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from pydantic import ValidationError

from mlmaster.errors import UserError
from mlmaster.journal.events import EVENT_ADAPTER, JournalEvent, NodeCommitted
from mlmaster.logs import get_logger

log = get_logger(__name__)

_TAIL_CHUNK = 64 * 1024


class JournalError(UserError):
    """The journal cannot be read back (missing, or not a journal)."""


class Journal:
    """Appends events to ``journal.jsonl``. Safe to call from the event loop and threads.

    Only one process may append (the run directory's lock sees to it), so the file's end is
    ours: a failed write can be cut back to where it began.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # one writer at a time; lines never interleave
        cut_torn_tail(path)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        self._seq = 0

    def start_at(self, seq: int) -> None:
        """Continue numbering after a resumed journal's last event."""
        self._seq = seq

    def append_sync(self, event: JournalEvent) -> JournalEvent:
        """Stamp ``event`` (seq, time), write it and fsync. Blocking: from the loop, use
        :meth:`append`. Returns the stamped event."""
        with self._lock:
            stamped = event.model_copy(update={"seq": self._seq + 1, "time": time.time()})
            data = (stamped.model_dump_json() + "\n").encode("utf-8")
            start = os.lseek(self._fd, 0, os.SEEK_END)
            try:
                _write_all(self._fd, data)
                os.fsync(self._fd)
            except OSError:
                # A full disk may take half a line: cut it off, so the journal stays whole.
                _truncate_quietly(self._fd, start)
                raise
            self._seq += 1
            return stamped

    async def append(self, event: JournalEvent) -> JournalEvent:
        """Write one event from async code, keeping the fsync off the event loop."""
        return await anyio.to_thread.run_sync(self.append_sync, event)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def cut_torn_tail(path: Path) -> bool:
    """Truncate ``path`` after its last complete line, fsynced. True if anything was cut.

    A journal that does not end in a newline ends in a line some writer never finished; an
    event appended after it would share its line and be lost with it.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        size = os.fstat(fd).st_size
        keep = _end_of_last_line(fd, size)
        if keep == size:
            return False
        os.ftruncate(fd, keep)
        os.fsync(fd)
    finally:
        os.close(fd)
    log.warning("journal: cut a half-written last line", path=str(path), bytes=size - keep)
    return True


def _end_of_last_line(fd: int, size: int) -> int:
    """The offset just after the file's last newline (0 if it has none)."""
    end = size
    while end > 0:
        start = max(0, end - _TAIL_CHUNK)
        chunk = os.pread(fd, end - start, start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        end = start
    return 0


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _truncate_quietly(fd: int, size: int) -> None:
    # If even this fails, the reader drops the torn line and the next open cuts it.
    with contextlib.suppress(OSError):
        os.ftruncate(fd, size)


@dataclass
class JournalContents:
    """What a journal holds: its well-formed events, and one message per line skipped."""

    events: list[JournalEvent] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def last_seq(self) -> int:
        return max((event.seq for event in self.events), default=0)


def read_journal(path: Path) -> JournalContents:
    """Every well-formed event of a journal, in order; each bad line skipped with a warning."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise JournalError(f"no journal at {path}: is this a run directory?") from None
    except OSError as error:
        raise JournalError(f"cannot read {path}: {error.strerror or error}") from None
    contents = JournalContents()
    committed: set[str] = set()
    lines = raw.split(b"\n")
    # An event is written whole with its newline: a last line without one was never finished
    # (and the next append cuts it off), even where it happens to parse.
    tail = lines.pop()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = EVENT_ADAPTER.validate_json(line)
        except ValidationError:
            contents.skipped.append(f"{path}: line {number}: {_what_is_wrong(line)}; skipped")
            continue
        event._line = number
        if isinstance(event, NodeCommitted):
            if event.node.id in committed:
                contents.skipped.append(
                    f"{path}: line {number}: node {event.node.id} is committed a second time; "
                    "skipped (its first record is kept)"
                )
                continue
            committed.add(event.node.id)
        contents.events.append(event)
    if tail.strip():
        contents.skipped.append(
            f"{path}: line {len(lines) + 1}: half written (the writer was stopped mid-write); "
            "dropped"
        )
    for message in contents.skipped:
        if message not in _warned:  # the report re-reads a live run's journal every minute
            _warned.add(message)
            log.warning("journal_line_skipped", problem=message)
    return contents


_warned: set[str] = set()  # skipped-line messages already logged by this process


def read_events(path: Path) -> list[JournalEvent]:
    """The well-formed events of a journal, in order (see :func:`read_journal`)."""
    return read_journal(path).events


def _what_is_wrong(line: bytes) -> str:
    """A short reason a line is not an event, for the warning that names it."""
    try:
        data: Any = json.loads(line)
    except ValueError:
        return "not JSON (damaged)"
    if not isinstance(data, dict) or "type" not in data:
        return "not an event (no type)"
    kind = data["type"]
    try:
        EVENT_ADAPTER.validate_python(data)
    except ValidationError as error:
        if any(problem["type"] == "union_tag_invalid" for problem in error.errors()):
            return f"an unknown kind of event ({kind!r})"
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "the event"
        return f"a {kind} event of the wrong shape ({where}: {first['msg']})"
    return "not an event"  # pragma: no cover - validate_json and validate_python agree
