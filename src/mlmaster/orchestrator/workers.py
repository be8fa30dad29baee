"""The workers: the loop each one runs, and the crew that decides how many run.

A worker repeats one step (:func:`~mlmaster.orchestrator.step.run_step`) until no step may
start; a failing step is logged and abandoned, and too many failures in a row end the run. The
:class:`Crew` starts workers and, once a second, applies what
:func:`~mlmaster.orchestrator.staffing.next_worker_count` says of the load it observes. Every
part of this runs on the event loop, so the tree and the crew's sets need no lock.
"""

from __future__ import annotations

import itertools
import time

import anyio
import anyio.abc

from mlmaster.llm.client import Endpoint, LLMError
from mlmaster.llm.limiter import AdaptiveLimiter
from mlmaster.logs import bind_ids, get_logger
from mlmaster.orchestrator.staffing import Bounds, Load, next_worker_count, workers_needed
from mlmaster.orchestrator.state import RunState, RunStatus
from mlmaster.orchestrator.step import _NoTime, run_step

log = get_logger(__name__)

# Steps that fail (raise, not merely produce a buggy node) this many times in a row, across all
# workers, mean something outside the search is broken (disk full, endpoint down): stop.
MAX_FAILURES_IN_A_ROW = 20


class Crew:
    """The run's workers: hired and let go as :func:`next_worker_count` says, every second.

    A worker leaves only between steps (at the top of its loop), never mid-step.
    """

    def __init__(self, state: RunState, bounds: Bounds, every: float = 1.0) -> None:
        self.state = state
        self.group: anyio.abc.TaskGroup | None = None
        self.bounds = bounds
        self.every = every
        self.target = bounds.start
        self.active: set[str] = set()
        self.idle: set[str] = set()  # waiting for the tree to offer a node
        self._names = itertools.count()
        self._limiters = _limiters(state.coder, state.reviewer)

    def start(self, group: anyio.abc.TaskGroup) -> None:
        """Start the first workers and the steering in ``group``."""
        self.group = group
        self.hire(self.bounds.start)
        group.start_soon(self.steer)

    def hire(self, count: int) -> None:
        assert self.group is not None, "start the crew first"
        for _ in range(count):
            worker_id = f"w{next(self._names)}"
            self.active.add(worker_id)
            self.group.start_soon(worker, self.state, worker_id, self)
        self._count()

    def leaves(self, worker_id: str) -> bool:
        """True (and the worker is gone) when the crew is larger than it should be."""
        if len(self.active) <= self.target:
            return False
        self.left(worker_id)
        return True

    def left(self, worker_id: str) -> None:
        self.active.discard(worker_id)
        self.idle.discard(worker_id)
        self._count()

    def _count(self) -> None:
        status = self.state.status
        status.workers = len(self.active)
        status.most_workers = max(status.most_workers, status.workers)

    async def steer(self) -> None:
        """Adjust the crew every ``every`` seconds while any worker runs and the run goes on."""
        pool = self.state.executor.pool
        status = self.state.status
        busy_before, at_before = pool.busy_seconds(), time.monotonic()
        while self.active and status.stop_reason is None and not status.fatal:
            await anyio.sleep(self.every)
            busy, now = pool.busy_seconds(), time.monotonic()
            if busy == 0:
                # No script has run yet: idle slots say nothing about the crew's size.
                at_before = now
                continue
            load = Load(
                workers=len(self.active),
                slots=pool.size,
                utilisation=(busy - busy_before) / (pool.size * max(now - at_before, 1e-9)),
                waiting_for_slot=pool.waiting,
                idle_workers=len(self.idle),
                llm_room=all(limiter.in_flight < limiter.limit for limiter in self._limiters),
                throttled=any(limiter.limit < limiter.ceiling for limiter in self._limiters),
                needed=workers_needed(pool.size, status.step_timings),
            )
            busy_before, at_before = busy, now
            self.target = next_worker_count(load, self.bounds)
            if self.target > len(self.active) and status.stop_reason is None:
                log.debug("workers_added", workers=self.target, utilisation=load.utilisation)
                self.hire(self.target - len(self.active))


def _limiters(*roles: object) -> list[AdaptiveLimiter]:
    """The concurrency limiters of the roles that call an endpoint (offline roles have none)."""
    found = []
    for role in roles:
        endpoint = getattr(role, "endpoint", None)
        if isinstance(endpoint, Endpoint):
            found.append(endpoint.limiter)
    return found


async def worker(state: RunState, worker_id: str, crew: Crew) -> None:
    """Repeat steps until no step may start or the crew shrinks. A failing step is logged and
    abandoned."""
    bind_ids(worker=worker_id)
    try:
        await _work(state, worker_id, crew)
    finally:
        crew.left(worker_id)


async def _work(state: RunState, worker_id: str, crew: Crew) -> None:
    status = state.status
    while not status.fatal and not crew.leaves(worker_id):
        reason = state.budget.stop_reason() or state.accountant.exhausted()
        if reason:
            status.stop(reason)
            return
        expansion = state.tree.select(state.budget.fraction_used, worker_id)
        if expansion is None:
            if state.tree.in_flight() == 0:
                status.stop("search space exhausted")
                return
            crew.idle.add(worker_id)
            await status.wait_for_commit(1.0)
            crew.idle.discard(worker_id)
            continue
        state.budget.start_step()
        try:
            await run_step(state, expansion, worker_id)
        except _NoTime:
            state.tree.abandon(expansion)
            return
        except LLMError as error:
            state.tree.abandon(expansion)
            if error.fatal:
                # A bad key, model or URL fails every call alike: end the run, say why.
                status.stop(f"LLM endpoint refused: {error}")
                status.fatal = True
                return
            log.warning("llm_call_failed", error=str(error))
            if _too_many_failures(status, error):
                return
            # The endpoint's own retries have waited already.
            await status.wait_for_commit(1.0)
            continue
        except BaseException as error:
            if not expansion.settled:
                state.tree.abandon(expansion)
            if isinstance(error, Exception):
                log.exception("step_failed", error=f"{type(error).__name__}: {error}")
                if _too_many_failures(status, error):
                    return
                status.signal_commit()
                await anyio.sleep(0.2)  # a failure that repeats must not spin the loop
                continue
            raise
        status.failures_in_a_row = 0


def _too_many_failures(status: RunStatus, error: BaseException) -> bool:
    """Count a failed step; past the limit the run ends, naming the last error."""
    status.failures += 1
    status.failures_in_a_row += 1
    if status.failures_in_a_row < MAX_FAILURES_IN_A_ROW:
        return False
    status.stop(
        f"{status.failures_in_a_row} steps failed in a row; last: {type(error).__name__}: {error}"
    )
    status.fatal = True
    return True
