"""The one structured call that reads a competition's metric off its description.

When an LLM is configured and the spec was inferred from a public folder, the model reads the
description and answers metric, direction, id column and submission columns as JSON;
:func:`mlmaster.competition.metric_choice.choose_metric` checks the answer and settles the
metric (a setting, a declared spec, the model, or the keyword rules, in that order).
"""

from __future__ import annotations

from pathlib import Path

from mlmaster.competition.layout import Competition
from mlmaster.competition.metric_choice import (
    MetricChoice,
    ModelReading,
    choose_metric,
    metric_prompt,
    parse_reading,
    recorded_choice,
    with_choice,
)
from mlmaster.llm.client import LLMError
from mlmaster.llm.pool import build_endpoint
from mlmaster.llm.requests import Role
from mlmaster.logs import get_logger
from mlmaster.settings import Settings
from mlmaster.settings.model import EndpointSettings

log = get_logger(__name__)


async def settle_metric(
    settings: Settings, competition: Competition, resume: Path | None
) -> tuple[Competition, MetricChoice]:
    """The metric for this run: on a resume the one the run started with, else chosen now."""
    if resume is not None:
        recorded = recorded_choice(resume)
        if recorded is not None:
            return with_choice(competition, recorded), recorded
    reading = None
    asked = (
        competition.spec_source == "inferred"
        and settings.competition.metric is None
        and settings.competition.lower_is_better is None
        and settings.competition.metric_from_llm
    )
    if asked:
        reading = await ask_model(settings, competition.description())
    competition, choice = choose_metric(competition, settings, reading)
    log.info("metric chosen", metric=choice.metric, source=choice.source, line=choice.line())
    return competition, choice


async def ask_model(settings: Settings, description: str) -> ModelReading | None:
    """One structured call to the configured model; None without one or when it fails."""
    roles: list[tuple[Role, EndpointSettings]] = [
        ("feedback", settings.llm.feedback),
        ("coder", settings.llm.coder),
    ]
    configured = [(role, chosen) for role, chosen in roles if chosen.provider == "openai"]
    if not configured:
        return None
    role, endpoint_settings = configured[0]
    endpoint = build_endpoint(endpoint_settings, role)
    prompt = metric_prompt(description)
    try:
        if endpoint_settings.api_style == "chat":
            completion = await endpoint.chat([{"role": "user", "content": prompt}])
        else:
            completion = await endpoint.complete(prompt + "\nAnswer:\n")
    except LLMError as error:
        log.warning("metric reading call failed", error=str(error))
        return None
    finally:
        await endpoint.close()
    reading = parse_reading(completion.text)
    if reading is None:
        log.warning("metric reading unparsable", answer=completion.text[:300])
    return reading
