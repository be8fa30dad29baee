"""A pool of execution slots leased in fair first-come order, with busy-time accounting.

``async with pool.lease() as slot:`` waits until a slot is free. A released slot is handed
straight to the longest waiter (never put back for a newcomer to grab), so under load runs
start in the order they asked. The pool counts how long each slot was busy, which the
benchmark turns into utilisation.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import anyio

from mlmaster.execution.topology import SlotSpec


class _Waiter:
    """One caller queued for a slot; the releaser fills ``slot`` and sets ``handed``."""

    def __init__(self) -> None:
        self.handed = anyio.Event()
        self.slot: SlotSpec | None = None


class SlotPool:
    def __init__(self, slots: Sequence[SlotSpec]) -> None:
        if not slots:
            raise ValueError("a slot pool needs at least one slot")
        self.slots: tuple[SlotSpec, ...] = tuple(slots)
        self._free: deque[SlotSpec] = deque(self.slots)
        self._waiters: deque[_Waiter] = deque()
        self._leased_at: dict[int, float] = {}
        self._busy_seconds_done = 0.0
        self._created = time.monotonic()
        self.peak_busy = 0

    @property
    def size(self) -> int:
        return len(self.slots)

    @property
    def busy(self) -> int:
        """Slots leased right now."""
        return len(self._leased_at)

    @property
    def waiting(self) -> int:
        """Callers queued for a slot."""
        return len(self._waiters)

    def busy_seconds(self) -> float:
        """Slot-seconds spent leased since the pool was made, the current leases included."""
        now = time.monotonic()
        return self._busy_seconds_done + sum(now - t for t in self._leased_at.values())

    def utilisation(self) -> float:
        """Busy slot-seconds over available slot-seconds since the pool was made (0..1)."""
        elapsed = time.monotonic() - self._created
        return self.busy_seconds() / (elapsed * self.size) if elapsed > 0 else 0.0

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[SlotSpec]:
        slot = await self._acquire()
        try:
            yield slot
        finally:
            self._release(slot)

    async def _acquire(self) -> SlotSpec:
        if self._free and not self.waiting:
            return self._take(self._free.popleft())
        waiter = _Waiter()
        self._waiters.append(waiter)
        try:
            await waiter.handed.wait()
        except BaseException:
            if waiter.slot is not None:
                # Cancelled after the slot was handed over: pass it on rather than lose it.
                self._release(waiter.slot)
            else:
                self._waiters.remove(waiter)
            raise
        assert waiter.slot is not None
        return waiter.slot

    def _take(self, slot: SlotSpec) -> SlotSpec:
        self._leased_at[slot.index] = time.monotonic()
        self.peak_busy = max(self.peak_busy, self.busy)
        return slot

    def _release(self, slot: SlotSpec) -> None:
        started = self._leased_at.pop(slot.index)
        self._busy_seconds_done += time.monotonic() - started
        if self._waiters:
            waiter = self._waiters.popleft()
            waiter.slot = self._take(slot)
            waiter.handed.set()
            return
        self._free.append(slot)
