"""The in-process validator: the validation server's own checks, without the HTTP round trip.

The competition's answers (or, without them, its sample submission's ids) are read once when
the run opens. A small file (nearly every submission) is checked right in the event loop: about
a millisecond, where a worker thread costs several and, while the loop is busy with other
workers, tens (the thread and the loop take turns at the GIL each time pandas lets it go). A
larger file is checked in a worker thread, so the loop never waits long; at most two at once,
which bounds the memory validation can take.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import anyio.lowlevel

from mlmaster.competition.layout import Competition
from mlmaster.competition.validation import SubmissionRules, ValidationOutcome
from mlmaster.settings.model import GraderSettings

PARALLEL = 2  # large files parsed at once
INLINE_BYTES = 256 * 1024  # files up to this size are checked in the event loop (~1-3 ms)


class InProcessValidator:
    name = "in-process"

    def __init__(self, rules: SubmissionRules) -> None:
        self.rules = rules
        self._limiter = anyio.CapacityLimiter(PARALLEL)

    async def validate(self, path: Path) -> ValidationOutcome:
        try:
            small = os.stat(path).st_size <= INLINE_BYTES
        except OSError:
            small = True  # no file to read: the check says so at once
        if small:
            await anyio.lowlevel.checkpoint()
            return self.rules.check(path)
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
