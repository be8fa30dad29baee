"""The run directory: append-only event journal, per-node files, best solution, report."""

from mlmaster.journal.journal import Journal, JournalError, read_events
from mlmaster.journal.rundir import RunDir

__all__ = ["Journal", "JournalError", "RunDir", "read_events"]
