"""The append-only event journal: one JSON object a line, flushed and fsynced per event.

A run can be killed at any instant (SIGKILL, power loss). Each event is written whole with one
``write`` and fsynced before the step that produced it is considered done, so after a crash the
journal holds every committed event and at most one half-written last line, which the reader
drops. A corrupt line anywhere else means the file was edited or damaged: that is an error.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import anyio

from mlmaster.errors import UserError
from mlmaster.logs import get_logger

log = get_logger(__name__)


class JournalError(UserError):
    """The journal cannot be read back (damaged, or not a journal)."""


class Journal:
    """Appends events to ``journal.jsonl``. Safe to call from the event loop and threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # one writer at a time; lines never interleave
        self._handle = path.open("ab")
        self._seq = 0

    def start_at(self, seq: int) -> None:
        """Continue numbering after a resumed journal's last event."""
        self._seq = seq

    def append_sync(self, kind: str, **data: Any) -> dict[str, Any]:
        """Write one event and fsync it. Blocking: from the loop, use :meth:`append`."""
        with self._lock:
            self._seq += 1
            event = {"seq": self._seq, "time": time.time(), "type": kind, **data}
            line = json.dumps(event, default=_jsonable, separators=(",", ":")) + "\n"
            self._handle.write(line.encode("utf-8"))
            self._handle.flush()
            os.fsync(self._handle.fileno())
            return event

    async def append(self, kind: str, **data: Any) -> dict[str, Any]:
        """Write one event from async code, keeping the fsync off the event loop."""
        return await anyio.to_thread.run_sync(lambda: self.append_sync(kind, **data))

    def close(self) -> None:
        with self._lock:
            if not self._handle.closed:
                self._handle.close()


def read_events(path: Path) -> list[dict[str, Any]]:
    """All events of a journal, in order. A half-written last line is dropped with a warning."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise JournalError(f"no journal at {path}: is this a run directory?") from None
    lines = raw.split(b"\n")
    events: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
            if not isinstance(event, dict) or "type" not in event:
                raise ValueError("not an event")
        except ValueError:
            is_last = all(not rest.strip() for rest in lines[number:])
            if is_last:
                log.warning("journal: dropped a half-written last line", path=str(path))
                break
            raise JournalError(
                f"{path}: line {number} is damaged; the journal cannot be replayed past it"
            ) from None
        events.append(event)
    return events


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot journal a {type(value).__name__}")
