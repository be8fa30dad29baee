"""Throughput: how busy the orchestrator keeps K execution slots when the LLM is slow.

A scripted OpenAI server, in a process of its own as a remote endpoint would be (its request
handling is then not counted as orchestration overhead), answers every call after a fixed
latency L: a coder call with a script
that sleeps E seconds, prints a metric and copies the sample submission; a review call (the
feedback role, by tool call) with a clean verdict. So each node pays two LLM calls and one
script, as a real run does. Ways to drive K slots are measured on the same competition, server
and executor:

* ``serial`` — the original ML-Master scheme: K workers, each owning one slot for the whole run,
  waiting for its own LLM call and then its own script. Slots idle while the LLM thinks, so at
  best utilisation is E / (L + E) (without a review; less with one).
* ``workers<=2K`` — mlmaster's orchestrator (tree, memory, journal, validation, review) with
  search.workers = 2K, the former fixed default: it starts at 2K and may only shrink.
* ``default`` — search.workers unset: the worker count adapts to keep the slots busy. Measured
  at L = E, L = 2E and E = 2L: the slots should stay busy at any ratio.

For the orchestrated runs the figures come from a steady-state window: from two step times after
the first commit (the pipeline is full and the crew has settled) to the moment the budget stops
new steps (the pipeline starts draining).
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from mlmaster.bench.report import Goal, ScenarioResult, Table
from mlmaster.competition.layout import Competition
from mlmaster.execution.result import ExecutionResult
from mlmaster.execution.runner import Executor
from mlmaster.execution.workspace import Workspace
from mlmaster.llm.pool import build_coder, build_reviewer
from mlmaster.llm.requests import CodeRequest, Hardware, ReviewRequest
from mlmaster.memory.insight import MemoryContext
from mlmaster.orchestrator.run import open_run, search
from mlmaster.orchestrator.state import RunState
from mlmaster.settings import Settings, load_settings
from mlmaster.testing.scripted_server import ReceivedRequest, Reply, ToolCall
from mlmaster.testing.server_process import ServerProcess

SAMPLE_EVERY = 0.05  # seconds between samples of the slot pool


@dataclass(frozen=True)
class ThroughputConfig:
    slots: int = 2  # K
    latency: float = 1.0  # L, seconds per LLM call (coder and reviewer alike)
    exec_seconds: float = 1.0  # E, seconds per script
    # Time limit of each orchestrated run: long enough that the crew's first adjustments (about
    # two step times) are a small part of the measured window.
    duration: float = 60.0
    serial_duration: float = 20.0  # how long the serial baseline keeps starting cycles
    # Other (L, E) pairs measured with the default workers only, after the main case.
    other_ratios: tuple[tuple[float, float], ...] = ((2.0, 1.0), (1.0, 2.0))

    def at(self, latency: float, exec_seconds: float) -> ThroughputConfig:
        return ThroughputConfig(
            slots=self.slots,
            latency=latency,
            exec_seconds=exec_seconds,
            duration=self.duration,
            serial_duration=self.serial_duration,
            other_ratios=(),
        )

    @property
    def exec_timeout(self) -> float:
        """A script's time limit. Small, because the budget stops new steps once less than
        this (plus a margin) is left, and the measured window ends there."""
        return 2 * self.exec_seconds + 2.0


def solution_script(exec_seconds: float, metric: float) -> str:
    """A script that takes ``exec_seconds``, reports ``metric`` and writes a valid file."""
    return (
        "import os, shutil, time\n"
        f"time.sleep({exec_seconds})\n"
        "os.makedirs('./submission', exist_ok=True)\n"
        "shutil.copyfile('./input/sample_submission.csv', './submission/submission.csv')\n"
        f"print('VALIDATION_METRIC: {metric:.4f}')\n"
    )


class SleepingCoderScript:
    """The scripted server's answers: to the coder a plan and a sleeping script with a
    changing metric; to the reviewer (a request offering tools) a clean verdict. Picklable: the
    benchmark's server runs it in a process of its own."""

    def __init__(self, exec_seconds: float) -> None:
        self.exec_seconds = exec_seconds
        self._answered = 0

    def __call__(self, received: ReceivedRequest) -> Reply:
        if received.body.get("tools"):
            verdict = {"is_bug": False, "summary": "ran cleanly", "metric": None}
            return Reply(
                text=None, tool_call=ToolCall(name="submit_review", arguments=json.dumps(verdict))
            )
        self._answered += 1
        n = self._answered
        metric = 0.5 + 0.4 * ((n * 7919) % 1000) / 1000  # varied, so the tree keeps improving
        code = solution_script(self.exec_seconds, metric)
        return Reply(text=f"Plan: attempt {n}, a fixed-time script.\n\n```python\n{code}```\n")


def bench_settings(
    config: ThroughputConfig,
    base_url: str,
    workdir: Path,
    competition: Competition,
    workers: int | None,
    run_id: str,
) -> Settings:
    endpoint = {
        "provider": "openai",
        "base_url": base_url,
        "model": "scripted",
        "api_key": "x",
        # Room for every worker: the endpoint is not what this scenario measures.
        "concurrency": 64,
        "request_timeout": config.latency + 30,
    }
    return load_settings(
        "ci",
        overrides={
            "run": {
                "runs_dir": str(workdir / "runs"),
                "competition": competition.spec.id,
                "run_id": run_id,
                "seed": 0,
            },
            "budget": {
                "time_limit": config.duration,
                "exec_timeout": config.exec_timeout,
                "final_reserve": 1.0,
            },
            "search": {"workers": workers, "policy": "ml-master"},
            # The sleeping scripts write no holdout predictions: rank by their printed metric.
            "selection": {"method": "script"},
            "llm": {"coder": endpoint, "feedback": endpoint | {"function_calling": "on"}},
            "execution": {"slots": config.slots, "gpus": "none"},
            "log": {"level": "warning"},
        },
        environ={},
    )


@dataclass
class Sample:
    at: float  # time.monotonic, the clock the slot pool counts busy time with
    busy_seconds: float
    done: int
    stopping: bool


async def _sample(state: RunState, samples: list[Sample]) -> None:
    pool = state.executor.pool
    while True:
        stopping = state.status.stop_reason is not None or state.budget.stop_reason() is not None
        samples.append(
            Sample(time.monotonic(), pool.busy_seconds(), state.tree.counts().done, stopping)
        )
        await anyio.sleep(SAMPLE_EVERY)


def steady_window(samples: list[Sample], warmup: float = 0.0) -> tuple[Sample, Sample] | None:
    """From ``warmup`` seconds after the first commit to the first sample at which no new step
    may start. The warm-up lets the crew of workers settle after the first commits tell it how
    long steps take (a long run spends a negligible share of its time there)."""
    committed = next((s for s in samples if s.done >= 1), None)
    if committed is None:
        return None
    last = next((s for s in samples if s.stopping and s.at > committed.at), samples[-1])
    # Never more than half of what is left to measure goes to the warm-up.
    start_at = committed.at + min(warmup, (last.at - committed.at) / 2)
    first = next(s for s in samples if s.at >= start_at)
    return (first, last) if last.at > first.at else None


def _ms(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure_orchestrated(
    config: ThroughputConfig,
    workers: int | None,
    base_url: str,
    workdir: Path,
    competition: Competition,
) -> dict[str, Any]:
    """One run with search.workers = ``workers`` (``None``: the default, adaptive)."""
    scheme = "default" if workers is None else f"workers<={workers}"
    run_id = f"L{config.latency:g}-E{config.exec_seconds:g}-{scheme.replace('<=', 'max')}"
    settings = bench_settings(config, base_url, workdir, competition, workers, run_id)
    samples: list[Sample] = []
    async with open_run(settings, competition, log_level="warning") as state:
        async with anyio.create_task_group() as group:
            group.start_soon(_sample, state, samples)
            outcome = await search(state, handle_signals=False)
            group.cancel_scope.cancel()
        timings = list(state.status.step_timings)
        ended_with, most = state.status.workers, state.status.most_workers
    # Two steps' worth (two LLM calls and a script each) for the crew to settle.
    warmup = 2 * (2 * config.latency + config.exec_seconds)
    window = steady_window(samples, warmup)
    result: dict[str, Any] = {
        "latency": config.latency,
        "exec_seconds": config.exec_seconds,
        "scheme": scheme,
        "workers": f"{ended_with}/{most}",
        "nodes_total": outcome.nodes,
        "stop_reason": outcome.stop_reason,
        "overhead_ms_p50": _ms([t.overhead_s for t in timings], 0.5),
        "overhead_ms_p95": _ms([t.overhead_s for t in timings], 0.95),
        "llm_extra_ms_p50": _ms([t.coder_s - config.latency for t in timings], 0.5),
        "exec_extra_ms_p50": _ms([t.exec_s - config.exec_seconds for t in timings], 0.5),
        "slot_wait_ms_p50": _ms([t.slot_wait_s for t in timings], 0.5),
        "workspace_ms_p50": _ms([t.workspace_s for t in timings], 0.5),
        "validate_ms_p50": _ms([t.validate_s for t in timings], 0.5),
        "journal_ms_p50": _ms([t.journal_s for t in timings], 0.5),
    }
    if window is None:
        return result | {"window_s": 0.0, "nodes": 0, "utilisation": None, "nodes_per_min": None}
    first, last = window
    wall = last.at - first.at
    return result | {
        "window_s": wall,
        "nodes": last.done - first.done,
        "utilisation": (last.busy_seconds - first.busy_seconds) / (config.slots * wall),
        "nodes_per_min": 60 * (last.done - first.done) / wall,
    }


async def measure_serial(
    config: ThroughputConfig, base_url: str, workdir: Path, competition: Competition
) -> dict[str, Any]:
    """The original scheme: each of K workers holds its own slot through LLM call and script."""
    settings = bench_settings(config, base_url, workdir, competition, config.slots, "serial")
    coder = build_coder(settings)
    reviewer = build_reviewer(settings)
    executor = Executor(settings.execution)
    cycles: list[tuple[float, float]] = []  # (llm seconds, script seconds) per node
    stop_at = time.monotonic() + config.serial_duration
    public = competition.paths.public_dir

    async def worker(index: int) -> None:
        async with executor.pool.lease() as slot:  # owned for the whole run, as the original
            for n in itertools.count():
                if time.monotonic() >= stop_at:
                    return
                node = f"serial-{index}-{n}"
                began = time.perf_counter()
                answer = await coder.generate(_request(competition, node, config))
                asked = time.perf_counter()
                workspace = Workspace.create(workdir / "serial" / node, public)
                workspace.write_script(answer.code or "")
                ran = time.perf_counter()
                result = await executor.run(workspace, timeout=config.exec_timeout, slot=slot)
                script = time.perf_counter() - ran
                await reviewer.review(_review_request(competition, node, answer.code, result))
                cycles.append((asked - began, script))

    started = time.monotonic()
    async with anyio.create_task_group() as group:
        for index in range(config.slots):
            group.start_soon(worker, index)
    wall = time.monotonic() - started
    script_busy = sum(script for _, script in cycles)
    return {
        "latency": config.latency,
        "exec_seconds": config.exec_seconds,
        "scheme": "serial (original)",
        "workers": f"{config.slots}/{config.slots}",
        "nodes_total": len(cycles),
        "window_s": wall,
        "nodes": len(cycles),
        "utilisation": script_busy / (config.slots * wall),
        "nodes_per_min": 60 * len(cycles) / wall,
        "overhead_ms_p50": None,
        "overhead_ms_p95": None,
        "llm_extra_ms_p50": _ms([llm - config.latency for llm, _ in cycles], 0.5),
        "exec_extra_ms_p50": _ms([s - config.exec_seconds for _, s in cycles], 0.5),
        "slot_wait_ms_p50": None,
        "workspace_ms_p50": None,
        "validate_ms_p50": None,
        "journal_ms_p50": None,
    }


def _review_request(
    competition: Competition, node_id: str, code: str | None, result: ExecutionResult
) -> ReviewRequest:
    return ReviewRequest(
        node_id=node_id,
        competition=competition.spec,
        description=competition.description(),
        plan="",
        code=code or "",
        execution=result,
        metric_from_output=None,
        submission_valid=None,
    )


def _request(competition: Competition, node_id: str, config: ThroughputConfig) -> CodeRequest:
    return CodeRequest(
        operator="draft",
        node_id=node_id,
        competition=competition.spec,
        description=competition.description(),
        public_dir=competition.paths.public_dir,
        memory=MemoryContext(operator="draft", text=""),
        time_left=config.serial_duration,
        exec_timeout=config.exec_timeout,
        hardware=Hardware(cpus=1),
    )


async def run_throughput(
    config: ThroughputConfig, workdir: Path, competition: Competition
) -> ScenarioResult:
    k = config.slots
    rows: list[dict[str, Any]] = []
    cases = [(config.latency, config.exec_seconds), *config.other_ratios]
    for index, (latency, exec_seconds) in enumerate(cases):
        case = config.at(latency, exec_seconds)
        script = SleepingCoderScript(exec_seconds)
        # In a process of its own, as a remote endpoint would be: its request handling is not
        # the orchestrator's overhead.
        async with ServerProcess(script, latency=latency) as server:
            url = server.base_url
            if index == 0:  # the main case: every scheme, for comparison
                rows.append(await measure_serial(case, url, workdir, competition))
                rows.append(await measure_orchestrated(case, 2 * k, url, workdir, competition))
            rows.append(await measure_orchestrated(case, None, url, workdir, competition))
    return summarise(config, rows)


def summarise(config: ThroughputConfig, rows: list[dict[str, Any]]) -> ScenarioResult:
    review = config.latency  # each node's second LLM call
    analytic = config.exec_seconds / (config.latency + config.exec_seconds + review)
    table = Table(
        title=(
            f"Throughput: K={config.slots} slots; every node an LLM code call and an LLM review "
            f"call of latency L and a script of E seconds (ideal K/E nodes per second)"
        ),
        columns=[
            "L s",
            "E s",
            "scheme",
            "workers end/most",
            "nodes",
            "window s",
            "nodes/min",
            "ratio to ideal K/E",
            "slot utilisation",
            "overhead/node p50 ms",
            "overhead/node p95 ms",
            "of which validation p50 ms",
            "of which journal p50 ms",
            "of which workspace p50 ms",
            "slot wait p50 ms",
            "process start p50 ms",
        ],
        notes=[
            f"The original scheme's analytic utilisation at L = E is E/(2L+E) = {analytic:.0%} "
            "(a code call, the script and a review call per node, each slot owned by one "
            "worker). Its measured row does no validation or journal, which flatters it slightly.",
            "workers<=N: search.workers = N (the most workers; the count adapts below it). "
            "default: search.workers unset (8 per slot at most). workers end/most: the count "
            "when the run ended and the most that ran at once.",
            "Slot utilisation: slot-seconds spent running scripts over K times the window. "
            "Orchestrated rows are measured from two step times (2 x (2L + E)) after the first "
            "commit, when the crew of workers has settled, to the moment the budget stops new "
            "steps; the serial row over its whole run.",
            "Overhead per node: a step's wall time less its LLM calls, slot queueing and "
            "script (workspace, validation, memory, journal fsync). Process start: the "
            "script's time in the slot beyond E (interpreter start, sandbox, reaping).",
        ],
    )
    for row in rows:
        per_min = row["nodes_per_min"]
        ideal_per_min = 60 * config.slots / row["exec_seconds"]
        row["ratio_to_ideal"] = per_min / ideal_per_min if per_min is not None else None
        table.rows.append(
            [
                row["latency"],
                row["exec_seconds"],
                row["scheme"],
                row["workers"],
                row["nodes"],
                row["window_s"],
                per_min,
                row["ratio_to_ideal"],
                row["utilisation"],
                row["overhead_ms_p50"],
                row["overhead_ms_p95"],
                row["validate_ms_p50"],
                row["journal_ms_p50"],
                row["workspace_ms_p50"],
                row["slot_wait_ms_p50"],
                row["exec_extra_ms_p50"],
            ]
        )
    defaults = [row for row in rows if row["scheme"] == "default"]
    measured = [row["utilisation"] for row in defaults if row["utilisation"] is not None]
    worst = min(measured) if measured and len(measured) == len(defaults) else None
    wide = next((row for row in rows if row["scheme"] == f"workers<={2 * config.slots}"), None)
    overhead = wide["overhead_ms_p50"] if wide else None
    goals = [
        Goal(
            name="slot utilisation, default workers, worst of the L/E ratios",
            target=">= 95%",
            measured="–" if worst is None else f"{worst:.1%}",
            met=None if worst is None else worst >= 0.95,
        ),
        Goal(
            name="orchestration overhead per node (median, workers=2K)",
            target="< 5 ms",
            measured="–" if overhead is None else f"{overhead:.1f} ms",
            met=None if overhead is None else overhead < 5.0,
        ),
    ]
    return ScenarioResult(
        name="throughput",
        tables=[table],
        goals=goals,
        data={
            "config": config.__dict__ | {"exec_timeout": config.exec_timeout},
            "analytic_serial_utilisation": analytic,
            "rows": rows,
        },
    )
