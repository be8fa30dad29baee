"""The slot pool: exclusive leases, first-come order under load, busy-time accounting."""

from __future__ import annotations

import asyncio

import pytest

from mlmaster.execution.slots import SlotPool
from mlmaster.execution.topology import plan_slots


def _pool(k: int) -> SlotPool:
    return SlotPool(plan_slots(list(range(4)), [], k))


async def test_leases_are_exclusive_and_counted():
    pool = _pool(2)
    async with pool.lease() as a, pool.lease() as b:
        assert a.index != b.index
        assert pool.busy == 2
    assert pool.busy == 0
    assert pool.peak_busy == 2


async def test_waiters_are_served_in_arrival_order():
    pool = _pool(1)
    order: list[int] = []

    async def user(i: int) -> None:
        async with pool.lease():
            order.append(i)
            await asyncio.sleep(0)

    async with pool.lease():
        tasks = []
        for i in range(6):
            tasks.append(asyncio.create_task(user(i)))
            await asyncio.sleep(0)  # let each one queue before the next
        assert pool.waiting == 6
    await asyncio.gather(*tasks)
    assert order == list(range(6))


async def test_a_newcomer_does_not_overtake_a_waiter():
    pool = _pool(1)
    order: list[str] = []

    async def user(name: str) -> None:
        async with pool.lease():
            order.append(name)

    async with pool.lease():
        waiter = asyncio.create_task(user("waiter"))
        await asyncio.sleep(0)
    # The slot was handed to the waiter on release, so the newcomer queues behind it.
    await user("newcomer")
    await waiter
    assert order == ["waiter", "newcomer"]


async def test_a_cancelled_waiter_does_not_lose_the_slot():
    pool = _pool(1)
    async with pool.lease():
        waiter = asyncio.create_task(pool.lease().__aenter__())
        await asyncio.sleep(0)
        waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert pool.busy == 0
    async with asyncio.timeout(1):
        async with pool.lease() as slot:
            assert slot.index == 0


async def test_a_waiter_cancelled_after_the_handover_passes_the_slot_on():
    pool = _pool(1)
    async with pool.lease():
        waiter = asyncio.create_task(pool.lease().__aenter__())
        await asyncio.sleep(0)
    waiter.cancel()  # the slot is already handed over; the task has not resumed yet
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert pool.busy == 0
    async with asyncio.timeout(1):
        async with pool.lease() as slot:
            assert slot.index == 0


async def test_busy_seconds_accumulate():
    pool = _pool(2)
    async with pool.lease():
        await asyncio.sleep(0.05)
    assert pool.busy_seconds() >= 0.05
    assert 0 < pool.utilisation() <= 1
