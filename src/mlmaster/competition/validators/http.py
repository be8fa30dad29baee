"""The HTTP validator: ask a grading server (MLE-bench's, or ``mlmaster serve``) for verdicts.

MLE-bench's server saves every upload to one fixed temporary file, so two validations in flight
can swap verdicts: this client sends one at a time per server. A verdict that does not come
back (the connection drops, a timeout, a 5xx or 503 answer) is asked for again, with a growing
pause, for up to ``grader.patience``; only then does it raise
:class:`~mlmaster.competition.validators.base.ValidationUnavailable`, which leaves the node's
validity unknown, never invalid. The server's health is checked when the run opens, so a wrong
``grader.url`` stops the run at once with one line.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx

from mlmaster.competition.validation import VALID_MESSAGE, ValidationOutcome, file_problem
from mlmaster.competition.validators.base import ValidationUnavailable
from mlmaster.errors import UserError
from mlmaster.logs import get_logger
from mlmaster.settings.model import GraderSettings

# A grader started beside the run (mlmaster serve, a container entrypoint) may still be
# importing: it gets about 10 s (pauses of 1, 2, 3 and 4 s) before the run gives up on it.
HEALTH_ATTEMPTS = 5
HEALTH_TIMEOUT = 5.0
FIRST_PAUSE = 0.5  # seconds before the first retry; doubles up to MAX_PAUSE
MAX_PAUSE = 30.0
# Answers that mean "ask again later": the server is busy, restarting, or lost the upload.
RETRIED_STATUSES = {408, 425, 429, 500, 502, 503, 504}

log = get_logger(__name__)


class _NoVerdict(Exception):
    """This attempt got no verdict; another may."""


class HttpValidator:
    name = "http"

    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        *,
        size_limit: int,
        patience: float,
    ) -> None:
        self.url = url.rstrip("/")
        self._client = client
        self._size_limit = size_limit
        self._patience = patience
        self._one_at_a_time = anyio.Lock()
        self._outage_since: float | None = None

    async def validate(self, path: Path) -> ValidationOutcome:
        problem = file_problem(path, self._size_limit)
        if problem is not None:  # never upload what cannot be a submission (or is huge)
            return ValidationOutcome.invalid(problem)
        give_up = time.monotonic() + self._patience
        pause = FIRST_PAUSE
        async with self._one_at_a_time:
            while True:
                try:
                    outcome = await self._ask(path)
                except _NoVerdict as error:
                    self._note_outage(str(error))
                    if time.monotonic() + pause > give_up:
                        raise ValidationUnavailable(
                            f"no verdict from {self.url} for {self._patience:.0f} s: {error}"
                        ) from None
                    await anyio.sleep(pause)
                    pause = min(pause * 2, MAX_PAUSE)
                    continue
                self._note_recovery()
                return outcome

    async def _ask(self, path: Path) -> ValidationOutcome:
        endpoint = f"{self.url}/validate"
        try:
            with path.open("rb") as stream:  # streamed: never the whole file in memory
                response = await self._client.post(
                    endpoint, files={"file": (path.name or "submission.csv", stream, "text/csv")}
                )
        except httpx.HTTPError as error:
            raise _NoVerdict(f"{type(error).__name__}: {error}") from None
        except OSError as error:  # the file went away between the check and the upload
            return ValidationOutcome.invalid(f"the file could not be read: {error}")
        if response.status_code in RETRIED_STATUSES:
            raise _NoVerdict(f"HTTP {response.status_code}: {response.text[:200]}")
        if response.status_code == 413:
            return ValidationOutcome.invalid("the file is larger than the grader accepts")
        return _outcome_from(response)

    def _note_outage(self, problem: str) -> None:
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            log.warning("validation_unavailable; retrying", grader=self.url, problem=problem)

    def _note_recovery(self) -> None:
        if self._outage_since is not None:
            down = time.monotonic() - self._outage_since
            self._outage_since = None
            log.info("validation_recovered", grader=self.url, down_s=round(down, 1))


def _outcome_from(response: httpx.Response) -> ValidationOutcome:
    """A verdict from a server's answer; MLE-bench's server sends only the ``result`` text."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or "result" not in body:
        # Not a verdict, and asking again would get the same answer (a wrong URL, a server
        # for another competition): no verdict, which is never the node's fault.
        raise ValidationUnavailable(
            f"unexpected answer from the validation server: HTTP {response.status_code} "
            f"{response.text[:200]}"
        )
    message = str(body["result"])
    is_valid = body.get("is_valid")
    if not isinstance(is_valid, bool):
        is_valid = message.strip() == VALID_MESSAGE
    return ValidationOutcome(is_valid=is_valid, message=message)


async def check_health(url: str, client: httpx.AsyncClient) -> None:
    """``GET /health`` answers 200, or a ``UserError`` saying what answered instead."""
    endpoint = f"{url.rstrip('/')}/health"
    problem = ""
    for attempt in range(HEALTH_ATTEMPTS):
        if attempt:
            await anyio.sleep(attempt)
        try:
            response = await client.get(endpoint, timeout=HEALTH_TIMEOUT)
        except httpx.HTTPError as error:
            problem = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            continue
        if response.status_code == 200:
            return
        problem = f"HTTP {response.status_code}"
    raise UserError(
        f"grader.url {url} does not answer GET /health ({problem}); start the grading server "
        "or unset grader.url to validate in process"
    )


@contextlib.asynccontextmanager
async def open_http(settings: GraderSettings, competition: object) -> AsyncIterator[HttpValidator]:
    """A validator for ``settings.url``.

    Its health is checked once, before the run directory exists (``check_grader``), not again
    here: a grader that goes down after that check is a grader down mid-run, whose verdicts the
    validator waits for (``grader.patience``), never a reason to end a run that has started.
    """
    assert settings.url is not None  # the settings refuse validator=http without a url
    async with httpx.AsyncClient(timeout=settings.request_timeout) as client:
        yield HttpValidator(
            settings.url,
            client,
            size_limit=int(settings.upload_limit),
            patience=settings.patience,
        )
