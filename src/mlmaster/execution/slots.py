"""A pool of execution slots leased in fair first-come order, with busy-time accounting.

``async with pool.lease() as slot:`` waits until a slot is free. A released slot is handed
straight to the longest waiter (never put back for a newcomer to grab), so under load runs
start in the order they asked. The pool counts how long each slot was busy, which the
benchmark turns into utilisation.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from mlmaster.execution.topology import SlotSpec


class SlotPool:
    def __init__(self, slots: Sequence[SlotSpec]) -> None:
        if not slots:
            raise ValueError("a slot pool needs at least one slot")
        self.slots: tuple[SlotSpec, ...] = tuple(slots)
        self._free: deque[SlotSpec] = deque(self.slots)
        self._waiters: deque[asyncio.Future[SlotSpec]] = deque()
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
        return sum(1 for w in self._waiters if not w.done())

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
        waiter: asyncio.Future[SlotSpec] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except BaseException:
            # Cancelled after the slot was handed over: pass it on rather than lose it.
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _take(self, slot: SlotSpec) -> SlotSpec:
        self._leased_at[slot.index] = time.monotonic()
        self.peak_busy = max(self.peak_busy, self.busy)
        return slot

    def _release(self, slot: SlotSpec) -> None:
        started = self._leased_at.pop(slot.index)
        self._busy_seconds_done += time.monotonic() - started
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(self._take(slot))
                return
        self._free.append(slot)
