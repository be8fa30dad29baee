"""Where one step's wall time went: LLM calls, waiting for a slot, the script, and the rest.

Recorded per committed node on the run state, so the benchmark can report orchestration
overhead (time in neither an LLM call nor a script nor a slot queue) without timing anything
itself. Clocks are ``time.perf_counter`` readings; only differences are meaningful.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class StepTiming:
    node_id: str
    started: float = field(default_factory=time.perf_counter)
    coder_s: float = 0.0  # the coder's LLM call
    slot_wait_s: float = 0.0  # queued for a free execution slot
    exec_s: float = 0.0  # the executor's run, holding the slot (process start included)
    review_s: float = 0.0  # the feedback role's call
    # Parts of the overhead worth seeing on their own:
    # waiting, once the coder answered, for the workspace made during its call (the script is
    # written in the executor's run, which starts it)
    workspace_s: float = 0.0
    validate_s: float = 0.0  # the validator's verdict on submission.csv
    journal_s: float = 0.0  # the review's files and the fsynced node_committed event
    total_s: float = 0.0  # select to journaled commit

    @property
    def overhead_s(self) -> float:
        """Time spent in the orchestrator itself: workspace, validation, memory, journal."""
        waited = self.coder_s + self.slot_wait_s + self.exec_s + self.review_s
        return max(0.0, self.total_s - waited)

    def finish(self) -> None:
        self.total_s = time.perf_counter() - self.started
