"""The adaptive limiter: a hard cap on holders, halving on 429, growing back slowly."""

import asyncio

import pytest

from mlmaster.llm.limiter import AdaptiveLimiter


async def test_never_more_holders_than_the_limit() -> None:
    limiter = AdaptiveLimiter(3)
    peak = 0

    async def hold() -> None:
        nonlocal peak
        async with limiter:
            peak = max(peak, limiter.in_flight)
            await asyncio.sleep(0.01)

    await asyncio.gather(*(hold() for _ in range(12)))
    assert peak == 3
    assert limiter.in_flight == 0


def test_halves_on_throttle_and_grows_back_by_one_after_successes() -> None:
    limiter = AdaptiveLimiter(8, grow_after=3)
    limiter.on_throttle()
    assert limiter.limit == 4
    limiter.on_throttle()
    limiter.on_throttle()
    limiter.on_throttle()
    assert limiter.limit == 1  # never below one
    for _ in range(3):
        limiter.on_success()
    assert limiter.limit == 2
    for _ in range(100):
        limiter.on_success()
    assert limiter.limit == 8  # never above the ceiling


async def test_a_shrunk_limit_holds_back_new_callers() -> None:
    limiter = AdaptiveLimiter(2, grow_after=1)
    await limiter.acquire()
    limiter.on_throttle()  # limit 1, one holder already
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    limiter.release()
    await asyncio.wait_for(waiter, 1)
    assert limiter.in_flight == 1


async def test_a_cancelled_waiter_gives_its_place_back() -> None:
    limiter = AdaptiveLimiter(1)
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    limiter.release()
    assert limiter.in_flight == 0
    await asyncio.wait_for(limiter.acquire(), 1)


def test_ceiling_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AdaptiveLimiter(0)
