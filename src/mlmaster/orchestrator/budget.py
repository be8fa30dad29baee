"""The run's budget, kept inside the process: wall clock and steps.

Pure bookkeeping over an injectable clock, so it is tested without sleeping. The rule that
matters: a step does not start if it cannot finish. A step's script gets the smaller of the
configured execution timeout and the time left before the final reserve, less a margin for the
step's own LLM calls and review; when that is below a useful minimum, no step starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mlmaster.settings import BudgetSettings

# Least script time worth starting a step for; below this the step could not do real work.
MIN_USEFUL_EXEC = 5.0


@dataclass
class Budget:
    settings: BudgetSettings
    clock: Callable[[], float] = time.monotonic
    spent_before: float = 0.0  # wall time already used by earlier sessions of a resumed run
    steps_before: int = 0
    step_margin: float = 2.0  # seconds kept per step for review and commit after the script
    _start: float = field(init=False)
    steps_started: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._start = self.clock()

    @property
    def elapsed(self) -> float:
        return self.spent_before + (self.clock() - self._start)

    @property
    def remaining(self) -> float:
        return max(0.0, self.settings.time_limit - self.elapsed)

    @property
    def fraction_used(self) -> float:
        return min(1.0, self.elapsed / self.settings.time_limit)

    @property
    def working_time_left(self) -> float:
        """Time left before the final reserve (kept for selection and outputs)."""
        return max(0.0, self.remaining - self.settings.final_reserve)

    @property
    def steps(self) -> int:
        return self.steps_before + self.steps_started

    def exec_timeout(self) -> float | None:
        """The timeout a script starting now gets, or ``None`` if no step should start."""
        left = self.working_time_left - self.step_margin
        timeout = min(self.settings.exec_timeout, left)
        if timeout < min(MIN_USEFUL_EXEC, self.settings.exec_timeout):
            return None
        return timeout

    def stop_reason(self) -> str | None:
        """Why no new step may start, or ``None`` when one may (token and cost caps are the
        accountant's: :meth:`mlmaster.llm.accounting.Accountant.exhausted`)."""
        s = self.settings
        if self.working_time_left <= 0:
            return "time limit reached"
        if s.max_steps is not None and self.steps >= s.max_steps:
            return f"step limit reached ({s.max_steps})"
        if self.exec_timeout() is None:
            return "too little time left for another step"
        return None

    def start_step(self) -> None:
        self.steps_started += 1
