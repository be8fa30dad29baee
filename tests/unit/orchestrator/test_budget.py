"""The budget: no step starts that cannot finish; every cap stops new steps."""

from mlmaster.orchestrator.budget import Budget
from mlmaster.settings import BudgetSettings


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(clock: FakeClock, **kw: object) -> Budget:
    settings = BudgetSettings(time_limit=100, exec_timeout=30, final_reserve=10, **kw)
    return Budget(settings, clock=clock, step_margin=2)


def test_exec_timeout_shrinks_to_fit_the_time_left() -> None:
    clock = FakeClock()
    budget = make(clock)
    assert budget.exec_timeout() == 30
    clock.now += 70  # 30 s left, 10 reserved, 2 of margin
    assert budget.exec_timeout() == 18
    assert budget.stop_reason() is None
    clock.now += 14  # 16 left: 4 for a script, not worth a step
    assert budget.exec_timeout() is None
    assert budget.stop_reason() == "too little time left for another step"
    clock.now += 10
    assert budget.stop_reason() == "time limit reached"
    assert budget.fraction_used == 0.94


def test_resumed_run_counts_time_and_steps_spent_before() -> None:
    clock = FakeClock()
    settings = BudgetSettings(time_limit=100, exec_timeout=30, final_reserve=10, max_steps=5)
    budget = Budget(settings, clock=clock, spent_before=60, steps_before=4)
    assert budget.remaining == 40
    assert budget.stop_reason() is None
    budget.start_step()
    assert budget.stop_reason() == "step limit reached (5)"
