"""Bounded capture of one output stream: keep its head and its tail, count what was cut.

A script can print gigabytes; the reader must drain the pipe (or the script blocks on a full
pipe) without keeping it all. The first ``cap/2`` bytes and the last ``cap/2`` bytes are kept.
"""

from __future__ import annotations

import os

import anyio

from mlmaster.execution.result import CapturedOutput

_CHUNK = 64 * 1024


class HeadTail:
    def __init__(self, cap: int) -> None:
        self._head_cap = cap // 2
        self._tail_cap = cap - self._head_cap
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self._head_cap - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if not data:
            return
        self._tail += data
        overflow = len(self._tail) - self._tail_cap
        if overflow > 0:
            del self._tail[:overflow]

    def result(self) -> CapturedOutput:
        kept = len(self._head) + len(self._tail)
        return CapturedOutput(
            head=self._head.decode("utf-8", errors="replace"),
            tail=self._tail.decode("utf-8", errors="replace"),
            total_bytes=self.total,
            cut_bytes=self.total - kept,
        )


async def drain(fd: int, sink: HeadTail) -> None:
    """Read the pipe ``fd`` to its end into ``sink``, waiting on the event loop between reads
    (the caller owns ``fd`` and closes it once this returns or is cancelled)."""
    os.set_blocking(fd, False)
    while True:
        await anyio.wait_readable(fd)
        try:
            data = os.read(fd, _CHUNK)
        except BlockingIOError:
            continue
        if not data:
            return
        sink.feed(data)
