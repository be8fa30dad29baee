"""How many workers a run keeps: the steering rules, the bounds and Little's-law estimate."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlmaster.orchestrator.staffing import (
    Bounds,
    Load,
    next_worker_count,
    worker_bounds,
    workers_needed,
)
from mlmaster.orchestrator.timing import StepTiming

BOUNDS = Bounds(least=2, most=16, start=4)


def load(**changes: object) -> Load:
    base: dict[str, object] = dict(
        workers=4,
        slots=2,
        utilisation=1.0,
        waiting_for_slot=0,
        idle_workers=0,
        llm_room=True,
        throttled=False,
        needed=None,
    )
    base.update(changes)
    return Load(**base)  # type: ignore[arg-type]


def test_busy_slots_keep_the_crew() -> None:
    assert next_worker_count(load(), BOUNDS) == 4


def test_idle_slots_add_workers_in_proportion_to_the_idle_share() -> None:
    assert next_worker_count(load(utilisation=0.9), BOUNDS) == 5  # at least one
    assert next_worker_count(load(workers=8, utilisation=0.47), BOUNDS) == 12


def test_idle_slots_jump_to_the_estimate_when_it_is_higher() -> None:
    assert next_worker_count(load(utilisation=0.9, needed=11), BOUNDS) == 11


@pytest.mark.parametrize(
    "reason",
    [
        {"waiting_for_slot": 1},  # someone queues: the slot will be busy again at once
        {"idle_workers": 1},  # the tree has nothing to give another worker
        {"llm_room": False},  # another worker would only queue for the endpoint
    ],
)
def test_no_workers_are_added_when_one_more_could_not_help(reason: dict[str, object]) -> None:
    assert next_worker_count(load(utilisation=0.2, **reason), BOUNDS) == 4


def test_a_throttling_endpoint_sheds_a_worker() -> None:
    assert next_worker_count(load(throttled=True, utilisation=0.1), BOUNDS) == 3


def test_a_long_slot_queue_sheds_a_worker_only_above_the_estimate() -> None:
    assert next_worker_count(load(workers=12, waiting_for_slot=3), BOUNDS) == 11
    assert next_worker_count(load(workers=12, waiting_for_slot=3, needed=11), BOUNDS) == 11
    assert next_worker_count(load(workers=12, waiting_for_slot=3, needed=12), BOUNDS) == 12
    assert next_worker_count(load(workers=12, waiting_for_slot=2), BOUNDS) == 12


@given(
    workers=st.integers(1, 40),
    utilisation=st.floats(0, 1),
    waiting=st.integers(0, 40),
    idle=st.integers(0, 5),
    room=st.booleans(),
    throttled=st.booleans(),
    needed=st.none() | st.integers(1, 100),
)
def test_the_count_stays_within_bounds_and_moves_one_way(
    workers: int,
    utilisation: float,
    waiting: int,
    idle: int,
    room: bool,
    throttled: bool,
    needed: int | None,
) -> None:
    seen = load(
        workers=workers,
        utilisation=utilisation,
        waiting_for_slot=waiting,
        idle_workers=idle,
        llm_room=room,
        throttled=throttled,
        needed=needed,
    )
    count = next_worker_count(seen, BOUNDS)
    assert BOUNDS.least <= count <= BOUNDS.most
    if throttled:
        assert count <= max(workers, BOUNDS.least)


def test_bounds_from_the_setting() -> None:
    assert worker_bounds(2, None) == Bounds(least=2, most=16, start=4)
    assert worker_bounds(2, 3) == Bounds(least=2, most=3, start=3)
    assert worker_bounds(4, 1) == Bounds(least=1, most=1, start=1)
    assert worker_bounds(100, None).most == 512


def step(total: float, exec_s: float, slot_wait: float = 0.0) -> StepTiming:
    return StepTiming("n", total_s=total, exec_s=exec_s, slot_wait_s=slot_wait)


def test_little_law_estimate() -> None:
    # Steps of 5 s outside the slot queue holding a slot 1 s: 2 slots need 10 workers, +15%.
    assert workers_needed(2, [step(5.0, 1.0)] * 10) == 12
    # Queueing for the slot is not part of the need.
    assert workers_needed(2, [step(7.0, 1.0, slot_wait=2.0)] * 10) == 12
    # Steps without a script (no code in the answer) still occupy a worker.
    assert workers_needed(1, [step(2.0, 1.0), step(2.0, 0.0)]) == 5


def test_no_estimate_before_a_script_ran() -> None:
    assert workers_needed(2, []) is None
    assert workers_needed(2, [step(3.0, 0.0)]) is None
