"""Choosing a coder and a reviewer from the settings: the one place that knows the providers.

``openai``: an :class:`~mlmaster.llm.client.Endpoint` with the LLM classes; ``replay``: the
exchanges recorded in a run directory; ``offline``: the template coder of
:mod:`mlmaster.offline`, imported only when chosen.
"""

from __future__ import annotations

import importlib
from typing import Any

from mlmaster.errors import UserError
from mlmaster.llm.accounting import Accountant
from mlmaster.llm.client import Endpoint
from mlmaster.llm.coder import LLMCoder
from mlmaster.llm.replay import ReplayBook, ReplayCoder, ReplayReviewer
from mlmaster.llm.requests import Coder, Reviewer, Role
from mlmaster.llm.review import LLMReviewer
from mlmaster.settings.model import EndpointSettings, Settings


def build_accountant(settings: Settings) -> Accountant:
    return Accountant(max_tokens=settings.budget.max_tokens, max_cost=settings.budget.max_cost)


def _check_openai(endpoint: EndpointSettings, role: Role) -> None:
    if not endpoint.model:
        raise UserError(
            f"llm.{role}.model is not set; the openai provider needs a model name "
            f"(MLMASTER_LLM__{role.upper()}__MODEL=...)"
        )


def _replay_book(
    endpoint: EndpointSettings, role: Role, books: dict[Any, ReplayBook]
) -> ReplayBook:
    if endpoint.replay_dir is None:
        raise UserError(
            f"llm.{role}.provider is replay but llm.{role}.replay_dir is not set; "
            "point it at a run directory recorded earlier"
        )
    key = endpoint.replay_dir.resolve()
    if key not in books:
        books[key] = ReplayBook.from_run(endpoint.replay_dir)
    return books[key]


def _offline(class_name: str, endpoint: EndpointSettings) -> Any:
    try:
        module = importlib.import_module("mlmaster.offline")
        factory = getattr(module, class_name)
    except (ImportError, AttributeError) as error:
        raise UserError(
            f"the offline provider is not available (mlmaster.offline.{class_name}: {error}); "
            "configure an LLM endpoint (provider = openai) instead"
        ) from error
    return factory(endpoint)


def build_endpoint(
    endpoint: EndpointSettings, role: Role, accountant: Accountant | None = None, **options: Any
) -> Endpoint:
    _check_openai(endpoint, role)
    return Endpoint(endpoint, role, accountant=accountant, **options)


def build_coder(
    settings: Settings,
    accountant: Accountant | None = None,
    *,
    books: dict[Any, ReplayBook] | None = None,
    **endpoint_options: Any,
) -> Coder:
    """The coder the settings ask for. ``books`` shares one replay recording between roles."""
    endpoint = settings.llm.coder
    if endpoint.provider == "openai":
        return LLMCoder(build_endpoint(endpoint, "coder", accountant, **endpoint_options))
    if endpoint.provider == "replay":
        book = _replay_book(endpoint, "coder", books if books is not None else {})
        return ReplayCoder(book, latency_scale=endpoint.replay_latency_scale)
    coder: Coder = _offline("OfflineCoder", endpoint)
    return coder


def build_reviewer(
    settings: Settings,
    accountant: Accountant | None = None,
    *,
    books: dict[Any, ReplayBook] | None = None,
    **endpoint_options: Any,
) -> Reviewer:
    """The reviewer the settings ask for (the feedback role)."""
    endpoint = settings.llm.feedback
    if endpoint.provider == "openai":
        return LLMReviewer(build_endpoint(endpoint, "feedback", accountant, **endpoint_options))
    if endpoint.provider == "replay":
        book = _replay_book(endpoint, "feedback", books if books is not None else {})
        return ReplayReviewer(book, latency_scale=endpoint.replay_latency_scale)
    reviewer: Reviewer = _offline("OfflineReviewer", endpoint)
    return reviewer
