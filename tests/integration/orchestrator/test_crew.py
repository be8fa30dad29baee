"""The crew of workers in a real run: it grows while the slots idle, within search.workers.

A real orchestrator, a real scripted OpenAI-compatible server on loopback (coder and reviewer
calls, each with latency) and real script processes. The LLM is slow next to the scripts, so
twice the slots in workers leave the slots idle and the crew must grow.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import anyio
import pytest

from mlmaster.bench.throughput import SleepingCoderScript, ThroughputConfig, bench_settings
from mlmaster.competition.layout import Competition, load_competition
from mlmaster.competition.suite.build import build_suite
from mlmaster.orchestrator.run import open_run, search
from mlmaster.testing.scripted_server import ReceivedRequest, Reply, ScriptedServer

LATENCY, EXEC = 0.8, 0.2
THROTTLE_AFTER = 10.0  # seconds into the run


@pytest.fixture(scope="module")
def competition(tmp_path_factory: pytest.TempPathFactory) -> Competition:
    dest = tmp_path_factory.mktemp("suite")
    build_suite(dest, only=["diabetes"])
    return load_competition(dest, "diabetes")


async def _run(competition: Competition, tmp_path: Path, workers: int | None) -> tuple[int, int]:
    config = ThroughputConfig(slots=1, latency=LATENCY, exec_seconds=EXEC, duration=20.0)
    async with ScriptedServer(SleepingCoderScript(EXEC), latency=LATENCY) as server:
        settings = bench_settings(config, server.base_url, tmp_path, competition, workers, "crew")
        async with open_run(settings, competition, log_level="warning") as state:
            with anyio.fail_after(120):
                outcome = await search(state, handle_signals=False)
            return state.status.most_workers, outcome.nodes


async def test_the_crew_grows_past_twice_the_slots_when_the_llm_is_the_bottleneck(
    competition: Competition, tmp_path: Path
) -> None:
    most, nodes = await _run(competition, tmp_path, workers=None)
    assert nodes >= 2
    # One slot; each node spends about 1.8 s in LLM calls per 0.2 s script: it needs several
    # workers, where the run starts with two.
    assert most > 2


async def test_search_workers_caps_the_crew(competition: Competition, tmp_path: Path) -> None:
    most, nodes = await _run(competition, tmp_path, workers=2)
    assert nodes >= 1
    assert most == 2


async def test_a_throttling_endpoint_shrinks_the_crew(
    competition: Competition, tmp_path: Path
) -> None:
    """After a while the endpoint answers every other call with 429 (and Retry-After): the
    limiter shrinks, and the crew with it, though the retried calls still go through."""
    coder = SleepingCoderScript(EXEC)
    started = time.monotonic()
    calls = itertools.count()

    def script(received: ReceivedRequest) -> Reply:
        if time.monotonic() - started > THROTTLE_AFTER and next(calls) % 2 == 0:
            return Reply(status=429, retry_after=0.05)
        return coder(received)

    config = ThroughputConfig(slots=1, latency=LATENCY, exec_seconds=EXEC, duration=30.0)
    counts: list[tuple[float, int]] = []
    async with ScriptedServer(script, latency=LATENCY) as server:
        settings = bench_settings(config, server.base_url, tmp_path, competition, None, "throttle")
        async with open_run(settings, competition, log_level="warning") as state:

            async def sample() -> None:
                while True:
                    counts.append((time.monotonic() - started, state.status.workers))
                    await anyio.sleep(0.25)

            async with anyio.create_task_group() as group:
                group.start_soon(sample)
                with anyio.fail_after(120):
                    await search(state, handle_signals=False)
                group.cancel_scope.cancel()
    before = max(n for t, n in counts if t <= THROTTLE_AFTER)
    assert before > 2  # the crew had grown
    # Some seconds into the throttling, and before the budget drains the crew anyway.
    throttled = [n for t, n in counts if THROTTLE_AFTER + 6 <= t <= THROTTLE_AFTER + 12]
    assert throttled and min(throttled) < before
