"""The in-process validator: the validation server's own checks, without the HTTP round trip.

The competition's answers (or, without them, its sample submission's ids) are read once when
the run opens; each verdict is computed in a worker thread so the event loop never waits on
pandas. At most two files are parsed at once, which bounds the memory validation can take.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from mlmaster.competition.layout import Competition
from mlmaster.competition.validation import SubmissionRules, ValidationOutcome
from mlmaster.settings.model import GraderSettings

PARALLEL = 2  # files parsed at once


class InProcessValidator:
    name = "in-process"

    def __init__(self, rules: SubmissionRules) -> None:
        self.rules = rules
        self._limiter = anyio.CapacityLimiter(PARALLEL)

    async def validate(self, path: Path) -> ValidationOutcome:
        return await anyio.to_thread.run_sync(self.rules.check, path, limiter=self._limiter)


@contextlib.asynccontextmanager
async def open_in_process(
    settings: GraderSettings, competition: Competition
) -> AsyncIterator[InProcessValidator]:
    """Read what submissions are checked against (a broken answers file is warned about and
    only the format is checked: the competition's files never make a node invalid)."""
    read = functools.partial(
        SubmissionRules.of, competition, int(settings.upload_limit), strict=False
    )
    yield InProcessValidator(await anyio.to_thread.run_sync(read))
