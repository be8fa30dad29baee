"""The run directory: its typed event journal, per-node folders, lock, best solution, report."""

from mlmaster.journal.events import (
    JournalEvent,
    NodeCommitted,
    RunEnded,
    RunResumed,
    RunStarted,
    SessionStart,
    sessions,
    time_spent,
)
from mlmaster.journal.journal import (
    Journal,
    JournalContents,
    JournalError,
    cut_torn_tail,
    read_events,
    read_journal,
)
from mlmaster.journal.lock import RunDirBusy, RunLock
from mlmaster.journal.rundir import NodeDir, RunDir

__all__ = [
    "Journal",
    "JournalContents",
    "JournalError",
    "JournalEvent",
    "NodeCommitted",
    "NodeDir",
    "RunDir",
    "RunDirBusy",
    "RunEnded",
    "RunLock",
    "RunResumed",
    "RunStarted",
    "SessionStart",
    "cut_torn_tail",
    "read_events",
    "read_journal",
    "sessions",
    "time_spent",
]
