"""The offline coder: answers a CodeRequest like an LLM would, without any model.

It profiles the competition's public files, chooses a recipe for the operator (see
:mod:`mlmaster.offline.policy`) and renders it as a complete script. The answer has the shape of
a model's: a short reasoning paragraph, then one fenced Python block.
"""

from __future__ import annotations

import random
import time

import anyio

from mlmaster.llm.requests import CodeAnswer, CodeRequest, Exchange
from mlmaster.logs import get_logger
from mlmaster.offline.baseline import plan_baseline, render_baseline
from mlmaster.offline.policy import Choice, choose_debug, choose_draft, choose_improve
from mlmaster.offline.profile import DataProfile, profile_competition
from mlmaster.offline.render import render_script
from mlmaster.settings.model import EndpointSettings

log = get_logger(__name__)

OFFLINE_MODEL = "offline-recipes"


def request_rng(request: CodeRequest) -> random.Random:
    """Seeded by the run's seed and the node id: the same request always gets the same script."""
    return random.Random(f"{request.seed}:{request.node_id}")


def choose(request: CodeRequest, profile: DataProfile) -> Choice:
    rng = request_rng(request)
    parent = request.parent
    if request.operator == "debug" and parent is not None:
        return choose_debug(parent, profile, request.seed)
    if request.operator == "improve" and parent is not None:
        return choose_improve(parent, profile, request.memory, request.seed, rng)
    return choose_draft(profile, request.memory, request.seed, rng, request.in_flight_siblings)


def plan_text(operator: str, choice: Choice, profile: DataProfile) -> str:
    """First sentence names the design (memory summarises plans from it), then the reason."""
    return (
        f"{operator.capitalize()} [{choice.tag}]: {choice.recipe.describe()}. "
        f"Why: {choice.why} The script reads ./input, fits with cross-validation, prints the "
        f"out-of-fold {profile.metric} as the validation metric and writes "
        f"./submission/submission.csv in the sample's format."
    )


def write_solution(request: CodeRequest) -> tuple[str, str]:
    """(plan, code) for a request. Blocking: reads the public files."""
    profile = profile_competition(request.competition, request.public_dir)
    if not profile.modelable:
        baseline = plan_baseline(request.competition, request.public_dir)
        log.warning(
            "offline mode can only submit a baseline for this competition",
            competition=request.competition.id,
            reason=profile.reason,
        )
        plan = (
            f"Baseline: offline mode cannot model {request.competition.id} ({profile.reason}), "
            f"so this script {baseline.describe()}, a valid submission in the sample's format."
        )
        return plan, render_baseline(baseline, profile.reason)
    choice = choose(request, profile)
    plan = plan_text(request.operator, choice, profile)
    return plan, render_script(choice.recipe, profile, plan)


class OfflineCoder:
    """A :class:`~mlmaster.llm.requests.Coder` that writes real scripts from recipes."""

    def __init__(self, endpoint: EndpointSettings | None = None) -> None:
        self.endpoint = endpoint or EndpointSettings()

    async def generate(self, request: CodeRequest) -> CodeAnswer:
        started_at = time.time()
        started = time.perf_counter()
        plan, code = await anyio.to_thread.run_sync(write_solution, request)
        text = f"{plan}\n\n```python\n{code}```\n"
        exchange = Exchange(
            role="coder",
            node_id=request.node_id,
            api_style="offline",
            model=OFFLINE_MODEL,
            request={
                "operator": request.operator,
                "competition": request.competition.id,
                "parent": request.parent.node_id if request.parent else None,
                "seed": request.seed,
                "memory_entries": len(request.memory.entries),
            },
            response_text=text,
            latency=time.perf_counter() - started,
            started_at=started_at,
        )
        return CodeAnswer(text=text, reasoning=plan, plan=plan, code=code, exchange=exchange)
