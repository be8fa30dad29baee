"""The Validator seam: how a run gets a verdict on each submission, by name.

=============  ===============================================================================
in-process     the validation server's checks called directly (the default without grader.url)
http           a grading server at ``grader.url`` (MLE-bench's, or ``mlmaster serve``)
=============  ===============================================================================

Adding one: a module with a factory ``(GraderSettings, Competition) -> async context manager
yielding a Validator``, registered in :data:`VALIDATORS` (and named in the settings' Literal).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx

from mlmaster.competition.layout import Competition
from mlmaster.competition.validators.base import ValidationUnavailable, Validator
from mlmaster.competition.validators.http import check_health, open_http
from mlmaster.competition.validators.in_process import open_in_process
from mlmaster.settings.model import GraderSettings

ValidatorFactory = Callable[[GraderSettings, Competition], AbstractAsyncContextManager[Any]]

VALIDATORS: dict[str, ValidatorFactory] = {
    "in-process": open_in_process,
    "http": open_http,
}


def validator_name(settings: GraderSettings) -> str:
    """The validator the settings choose: ``auto`` is http with a grader.url, else in process."""
    if settings.validator != "auto":
        return settings.validator
    return "http" if settings.url else "in-process"


async def check_grader(settings: GraderSettings) -> None:
    """Refuse (``UserError``) a grader that cannot serve the run, before anything is written."""
    if validator_name(settings) == "http":
        assert settings.url is not None
        async with httpx.AsyncClient(timeout=settings.request_timeout) as client:
            await check_health(settings.url, client)


def open_validator(
    settings: GraderSettings, competition: Competition
) -> AbstractAsyncContextManager[Validator]:
    """The chosen validator, opened for ``competition`` (``async with``); closed on exit."""
    return VALIDATORS[validator_name(settings)](settings, competition)


__all__ = [
    "VALIDATORS",
    "ValidationUnavailable",
    "Validator",
    "ValidatorFactory",
    "check_grader",
    "open_validator",
    "validator_name",
]
