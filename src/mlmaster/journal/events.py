"""The journal's events: one typed model per kind, and the run's time computed from them.

A journal line is one event as JSON: ``{"seq": 3, "time": 1.7e9, "type": "node_committed",
...}``. ``type`` names the kind and picks the model (a discriminated union), so every event the
journal hands back is checked and typed. The line format has not changed since the first
journals: those read as they are.

To add an event kind: one model here (a ``type`` literal and its fields), listed in
``JournalEvent``; writers pass an instance to :meth:`Journal.append`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter

from mlmaster.execution.sandbox import SandboxInfo
from mlmaster.llm.accounting import RunTotals
from mlmaster.search.node import Node


class Event(BaseModel):
    """What every event carries. ``seq`` and ``time`` are stamped by the journal on append."""

    # Fields a later version adds are ignored by an earlier reader, not fatal to it.
    model_config = ConfigDict(extra="ignore")

    seq: int = 0
    time: float = 0.0
    _line: int = PrivateAttr(default=0)  # where it was read from (1-based), for messages

    @property
    def line(self) -> int:
        return self._line


class _SessionStart(Event):
    """A process began working on the run: the competition and settings it worked with."""

    competition: str
    data_dir: str | None = None
    public_dir: str | None = None
    lower_is_better: bool | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    started: float | None = None  # wall clock when the process started the session
    # What the scripts run on (mlmaster.environment.Environment as JSON), found at start.
    environment: dict[str, Any] = Field(default_factory=dict)
    # The metric optimised and where it came from (mlmaster.competition.metric_choice).
    metric_choice: dict[str, Any] = Field(default_factory=dict)
    sandbox: SandboxInfo | None = None  # what confined this session's scripts (report shows it)
    # The holdout carved (or why none) and what nodes are ranked by (Selection.record()).
    selection: dict[str, Any] = Field(default_factory=dict)


class RunStarted(_SessionStart):
    type: Literal["run_started"] = "run_started"


class RunResumed(_SessionStart):
    type: Literal["run_resumed"] = "run_resumed"


class NodeCommitted(Event):
    """A step finished: the node as the tree holds it (its files are in ``nodes/<id>/``)."""

    type: Literal["node_committed"] = "node_committed"
    node: Node


class RunEnded(Event):
    """The session's summary, written before ``--output`` is copied."""

    type: Literal["run_ended"] = "run_ended"
    reason: str
    best: str | None = None
    best_metric: float | None = None
    elapsed: float | None = None  # the budget's own clock, all sessions
    totals: RunTotals = Field(default_factory=RunTotals)


JournalEvent = Annotated[
    RunStarted | RunResumed | NodeCommitted | RunEnded, Field(discriminator="type")
]
EVENT_ADAPTER: TypeAdapter[JournalEvent] = TypeAdapter(JournalEvent)
SessionStart = RunStarted | RunResumed


def sessions(events: list[JournalEvent]) -> list[list[JournalEvent]]:
    """The events split per process: each session begins with its start (or resume) event.

    Events before the first start (none, in a sound journal) form a session of their own.
    """
    split: list[list[JournalEvent]] = []
    for event in events:
        if isinstance(event, RunStarted | RunResumed) or not split:
            split.append([])
        split[-1].append(event)
    return split


def time_spent(events: list[JournalEvent]) -> float:
    """Seconds the run has worked, over all its sessions: what its budget has spent.

    A session that ended says so itself (``run_ended.elapsed``, the budget's own clock, which
    counts every session before it too). A session cut short counts from its first event to its
    last: the time between a crash and its resume is not counted, nor is a step that was in
    flight at the crash (it left no event).
    """
    total = 0.0
    for session in sessions(events):
        last = session[-1]
        if isinstance(last, RunEnded) and last.elapsed is not None:
            total = last.elapsed
        else:
            total += last.time - session[0].time
    return total
