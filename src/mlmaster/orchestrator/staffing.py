"""How many tree workers a run needs: enough to keep every execution slot busy, no more.

A worker carries one node at a time through its LLM calls and its script, and holds a slot only
while the script runs. So K slots stay busy only with about K x (step time / script time)
workers: twice K when the coder's latency equals the script time, five times K when each node
also pays a review call twice as long as the script. Those ratios are not known in advance and
drift during a run, so the count is steered by what is observed, between bounds:

* slots sat idle since the last look, nobody queued for one, no worker is idle for want of a
  node to expand, and the LLM endpoints have room for another call: more workers, in
  proportion to the idle share (a quarter of the slot time idle: a quarter more workers), and
  at once as many as the recent steps say are needed (:func:`workers_needed`, Little's law);
* an endpoint throttles (it answered 429 and its limiter shrank): one fewer;
* more workers queue for a slot than there are slots, and there are more than the estimate
  needs: one fewer (they would only wait).

Between those the count holds, so it settles instead of oscillating. Pure: the orchestrator
gathers a :class:`Load` and applies the answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from mlmaster.orchestrator.timing import StepTiming
from mlmaster.settings.model import MAX_WORKERS

# Slot utilisation since the last look below which the slots count as idle.
BUSY_ENOUGH = 0.97
# The most workers per slot when search.workers is unset: room for slow LLMs and reviews.
AUTO_WORKERS_PER_SLOT = 8
# Recent steps the estimate of the needed workers is drawn from.
RECENT_STEPS = 40
# Spare workers over the estimate, for the spread of step times around their mean.
MARGIN = 1.15


@dataclass(frozen=True)
class Bounds:
    """The fewest and most workers, and how many to start with."""

    least: int
    most: int
    start: int


def worker_bounds(slots: int, configured: int | None) -> Bounds:
    """``search.workers`` is the most; unset, eight per slot. Never fewer than the slots
    (fewer could not fill them) unless the most is lower; start at twice the slots."""
    most = configured if configured is not None else min(MAX_WORKERS, AUTO_WORKERS_PER_SLOT * slots)
    least = min(slots, most)
    return Bounds(least=least, most=most, start=min(most, 2 * slots))


@dataclass(frozen=True)
class Load:
    """What the orchestrator saw since its last look."""

    workers: int  # running now
    slots: int
    utilisation: float  # busy slot-seconds over slot-seconds since the last look (0..1)
    waiting_for_slot: int  # workers queued for a slot now
    idle_workers: int  # workers waiting because the tree offered nothing to expand
    llm_room: bool  # every LLM endpoint could take another call now
    throttled: bool  # some endpoint throttled us and its limiter has not grown back
    needed: int | None = None  # the estimate of workers_needed, once steps have committed


def next_worker_count(load: Load, bounds: Bounds) -> int:
    """The worker count for the next interval (see the module's rules)."""
    count = load.workers
    surplus = load.needed is None or load.workers > load.needed
    if load.throttled or (load.waiting_for_slot > load.slots and surplus):
        count -= 1
    elif (
        load.utilisation < BUSY_ENOUGH
        and load.waiting_for_slot == 0
        and load.idle_workers == 0
        and load.llm_room
    ):
        count += max(1, round(load.workers * (BUSY_ENOUGH - load.utilisation)))
        count = max(count, load.needed or 0)
    return max(bounds.least, min(bounds.most, count))


def workers_needed(slots: int, timings: Sequence[StepTiming]) -> int | None:
    """Workers that keep ``slots`` busy, by Little's law over the recent steps.

    A worker holds a slot for the script only, and spends the rest of its step elsewhere (LLM
    calls, validation, commit). So ``slots`` busy slots need ``slots`` x (step time outside the
    slot queue) / (time holding the slot) workers, plus a margin; ``None`` until a script ran.
    """
    recent = timings[-RECENT_STEPS:]
    holding = sum(t.exec_s for t in recent)
    if holding <= 0:
        return None
    stepping = sum(max(0.0, t.total_s - t.slot_wait_s) for t in recent)
    return math.ceil(slots * stepping / holding * MARGIN)
