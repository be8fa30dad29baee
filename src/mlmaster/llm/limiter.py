"""A concurrency limiter whose size adapts to the endpoint (AIMD).

An endpoint that answers 429 is telling us we send too much at once: the limit halves
(multiplicative decrease). After a run of successes it grows back by one (additive increase),
never above the configured ceiling. Calls already in flight are never interrupted; a smaller
limit only holds back the next ones.
"""

from __future__ import annotations

from collections import deque
from types import TracebackType

import anyio


class AdaptiveLimiter:
    """At most ``limit`` holders at once; ``limit`` moves between 1 and ``ceiling``."""

    def __init__(self, ceiling: int, *, grow_after: int = 8) -> None:
        if ceiling < 1:
            raise ValueError("a limiter's ceiling must be at least 1")
        self.ceiling = ceiling
        self.grow_after = grow_after
        self._limit = ceiling
        self._in_flight = 0
        self._successes = 0  # successes in a row since the last change of the limit
        self._waiters: deque[anyio.Event] = deque()

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def acquire(self) -> None:
        if self._in_flight < self._limit and not self._waiters:
            self._in_flight += 1
            return
        waiter = anyio.Event()
        self._waiters.append(waiter)
        try:
            await waiter.wait()
        except BaseException:
            if waiter.is_set():
                # The slot was handed to us just as we were cancelled: pass it on.
                self.release()
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        self._in_flight -= 1
        self._wake()

    def on_success(self) -> None:
        self._successes += 1
        if self._successes >= self.grow_after and self._limit < self.ceiling:
            self._limit += 1
            self._successes = 0
            self._wake()

    def on_throttle(self) -> None:
        """The endpoint said 429: halve the limit (at least 1)."""
        self._limit = max(1, self._limit // 2)
        self._successes = 0

    def _wake(self) -> None:
        while self._waiters and self._in_flight < self._limit:
            waiter = self._waiters.popleft()
            self._in_flight += 1
            waiter.set()

    async def __aenter__(self) -> AdaptiveLimiter:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
