"""The run's status: the first stop reason wins, commits wake waiters, the best trend is bounded."""

import anyio

from mlmaster.orchestrator.state import BEST_HISTORY, RunStatus


def test_the_first_stop_reason_wins() -> None:
    status = RunStatus()
    status.stop("time limit reached")
    status.stop("search space exhausted")
    assert status.stop_reason == "time limit reached"


async def test_a_commit_wakes_a_waiting_worker_and_the_wait_is_bounded() -> None:
    status = RunStatus()
    woken: list[float] = []

    async def wait() -> None:
        began = anyio.current_time()
        await status.wait_for_commit(30.0)
        woken.append(anyio.current_time() - began)

    async with anyio.create_task_group() as group:
        group.start_soon(wait)
        await anyio.sleep(0.05)
        status.signal_commit()
    assert woken and woken[0] < 10.0
    with anyio.fail_after(10):
        await status.wait_for_commit(0.01)  # nothing commits: it returns after the timeout


def test_best_history_is_thinned_from_the_old_end() -> None:
    status = RunStatus()
    for i in range(1000):
        status.record_best(float(i), float(i))
    assert len(status.best_history) <= BEST_HISTORY
    assert status.best_history[-1] == (999.0, 999.0)  # the latest is always kept
    assert [t for t, _ in status.best_history] == sorted(t for t, _ in status.best_history)
