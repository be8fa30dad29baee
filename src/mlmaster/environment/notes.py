"""The benchmark's own notes for agents (MLE-bench's ``/home/instructions.txt``), for prompts.

MLE-bench tells every agent the rules of the benchmark in that file: the submission path, that
the split differs from Kaggle's, that hand-labelling and looking up solutions are not allowed,
and that these notes win over the competition's text. A solution script sees the data as
``./input`` and writes ``./submission``, so the container paths are rewritten to those (as
MLE-bench's own AIDE agent does), and the note that the orchestrator validates replaces the
validation-server instructions a script cannot follow.
"""

from __future__ import annotations

from pathlib import Path

MAX_CHARS = 8000
_PATHS = (
    ("/home/data/", "./input/"),
    ("/home/data", "./input"),
    ("/home/submission/", "./submission/"),
    ("/home/submission", "./submission"),
    ("/home/code/", "./"),
    ("/home/", "./"),
)


def benchmark_notes(path: Path | None) -> str | None:
    """The notes at ``path`` with container paths made the script's own; None when absent."""
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:MAX_CHARS].strip()
    except OSError:
        return None
    for old, new in _PATHS:
        text = text.replace(old, new)
    return text or None


def with_notes(description: str, notes: str | None) -> str:
    """The task description a prompt shows: the benchmark's notes first, then the competition's.

    The same order MLE-bench's agents use; the notes say they win where the two conflict.
    """
    if not notes:
        return description
    return (
        f"{notes}\n\n(Submissions are validated for you after each script runs; a script cannot "
        f"reach a validation server.)\n\n# Competition instructions\n\n{description}"
    )
