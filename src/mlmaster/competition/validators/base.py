"""The Validator protocol: how a run gets a verdict on one submission file."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from mlmaster.competition.validation import ValidationOutcome


class ValidationUnavailable(Exception):
    """No verdict could be had (the grader is down or answered nonsense): not the node's fault.

    The step records the node's validity as unknown; it never makes the node buggy.
    """


class Validator(Protocol):
    """Gives the verdict on a submission file; one instance serves a whole run.

    ``validate`` returns an outcome for anything wrong with the file itself and raises
    :class:`ValidationUnavailable` only when no verdict could be obtained.
    """

    name: str

    async def validate(self, path: Path) -> ValidationOutcome: ...
