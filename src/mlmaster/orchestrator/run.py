"""The orchestrator: wire the parts, run the workers under the budget, select and write out.

::

    async with open_run(settings, ...) as state:   # run dir, journal, server, pools
        outcome = await search(state)               # workers until budget or signal
    # best/, --output, report.html and a one-line summary are written on the way out

The one loop: each worker (:mod:`~mlmaster.orchestrator.workers`) repeats select (tree,
synchronous) -> generate -> execute -> review -> commit (tree, synchronous) until no step may
start. How many workers run is steered by the crew (:mod:`~mlmaster.orchestrator.staffing`):
enough to keep the slots busy.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio

from mlmaster.competition.layout import Competition
from mlmaster.competition.metric_choice import MetricChoice
from mlmaster.competition.validators import check_grader, open_validator
from mlmaster.environment import Environment, discover
from mlmaster.environment.model_cache import check_cache_apart
from mlmaster.environment.notes import benchmark_notes, with_notes
from mlmaster.execution.runner import Executor
from mlmaster.journal import Journal, RunDir, RunEnded, RunResumed, RunStarted, read_journal
from mlmaster.journal.output import OutputError, export_submission
from mlmaster.llm.pool import build_accountant, build_coder, build_reviewer
from mlmaster.llm.requests import Coder
from mlmaster.logs import bind_ids, configure_logging, get_logger
from mlmaster.memory import MemoryStore
from mlmaster.orchestrator.budget import Budget
from mlmaster.orchestrator.progress import Snapshot, show_progress
from mlmaster.orchestrator.refit import refit
from mlmaster.orchestrator.resume import ResumePoint, rebuild
from mlmaster.orchestrator.staffing import worker_bounds
from mlmaster.orchestrator.state import RunState
from mlmaster.orchestrator.workers import Crew
from mlmaster.preview import data_preview
from mlmaster.search import SearchTree
from mlmaster.selection.setup import Selection, prepare_selection
from mlmaster.settings import Settings

log = get_logger(__name__)

EXIT_SIGNAL: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}


@dataclass
class RunOutcome:
    run_dir: Path
    best_id: str | None
    best_metric: float | None
    nodes: int
    stop_reason: str
    exit_code: int
    output: Path | None
    output_error: str | None = None  # the copy to --output failed: why, in one line

    def summary(self) -> str:
        if self.best_id is None:
            found = "no valid solution found"
        elif self.best_metric is None:
            found = f"no metric, latest valid submission kept (node {self.best_id})"
        else:
            found = f"best {self.best_metric:.6g} (node {self.best_id})"
        where = f"; submission at {self.output}" if self.output else ""
        return (
            f"{found} after {self.nodes} nodes; stopped: {self.stop_reason}; "
            f"run directory {self.run_dir}{where}"
        )


@contextlib.asynccontextmanager
async def open_run(
    settings: Settings,
    competition: Competition,
    *,
    resume: Path | None = None,
    log_console: str = "auto",
    log_level: str | None = None,
    metric_choice: MetricChoice | None = None,
    coder: Coder | None = None,
) -> AsyncIterator[RunState]:
    """Create (or reopen) the run directory and every shared part; close them all on exit.

    Everything that can reject the settings (LLM endpoints, CPUs and slots, the sandbox, the
    journal to resume) is built first, so bad input never leaves an empty run directory.
    ``coder`` replaces the one the settings name (the benchmark's leaky coder); runs never
    pass one.
    """
    accountant = build_accountant(settings)
    coder = coder or build_coder(settings, accountant)
    reviewer = build_reviewer(settings, accountant)
    executor = Executor(settings.execution)
    check_cache_apart(
        executor.cache_dir, private=competition.paths.private_dir, runs_dir=settings.run.runs_dir
    )
    await check_grader(settings.grader)
    preview = await anyio.to_thread.run_sync(data_preview, competition.paths.public_dir)
    environment = await anyio.to_thread.run_sync(discover_environment, settings, executor)
    point: ResumePoint | None = None
    if resume is not None:
        run_dir = RunDir.existing(resume)
        lock = run_dir.lock()  # before reading: a running original would still be appending
        try:
            point = rebuild(read_journal(run_dir.journal), settings, competition)
        except BaseException:
            lock.release()
            raise
    else:
        run_dir = RunDir.create(settings.run.runs_dir, competition.spec.id, settings.run.run_id)
        lock = run_dir.lock()
        run_dir.write_settings(settings.model_dump(mode="json"))
    configure_logging(
        log_level or settings.log.level,
        log_console,  # type: ignore[arg-type]
        json_file=run_dir.log,
    )
    bind_ids(run_id=run_dir.id)
    if metric_choice is not None:
        log.info("competition", id=competition.spec.id, metric=metric_choice.line())
    selection = await anyio.to_thread.run_sync(
        open_selection, settings, competition, run_dir, point is not None
    )
    log.info("selection", line=selection.line())

    journal = Journal(run_dir.journal)
    if point is not None:
        tree, memory = point.tree, point.memory
        journal.start_at(point.last_seq)
        accountant.restore(point.tokens_in, point.tokens_out, point.cost)
    else:
        tree = SearchTree(
            settings.search,
            lower_is_better=competition.spec.lower_is_better,
            seed=settings.run.seed,
        )
        memory = MemoryStore(settings.memory)
    budget = Budget(
        settings.budget,
        spent_before=point.elapsed if point else 0.0,
        steps_before=point.steps if point else 0,
    )

    async with contextlib.AsyncExitStack() as stack:
        stack.callback(lock.release)  # last out: the journal is closed before the lock goes
        # In process unless grader.url names a server (checked before the run directory was
        # made, so a wrong URL stops the run before anything is written).
        validator = await stack.enter_async_context(open_validator(settings.grader, competition))

        state = RunState(
            settings=settings,
            competition=competition,
            run_dir=run_dir,
            journal=journal,
            tree=tree,
            memory=memory,
            coder=coder,
            reviewer=reviewer,
            executor=executor,
            budget=budget,
            accountant=accountant,
            validate=validator.validate,
            description=with_notes(
                competition.description(),
                benchmark_notes(settings.competition.instructions_file),
            ),
            data_preview=preview,
            environment=environment,
            selection=selection,
        )
        session = RunResumed if point else RunStarted
        await journal.append(
            session(
                competition=competition.spec.id,
                data_dir=str(competition.paths.root.parent),
                public_dir=str(competition.paths.public_dir),
                lower_is_better=competition.spec.lower_is_better,
                settings=settings.model_dump(mode="json"),
                started=time.time(),
                environment=environment.model_dump(mode="json"),
                metric_choice=metric_choice.model_dump(mode="json") if metric_choice else {},
                sandbox=executor.hardware().sandbox,
                selection=selection.record(),
            )
        )
        try:
            yield state
        finally:
            journal.close()


def open_selection(
    settings: Settings, competition: Competition, run_dir: RunDir, resumed: bool
) -> Selection:
    """The run's holdout: carved at its start, reused by a resume (never carved mid-run)."""
    if resumed and not run_dir.holdout_dir.is_dir():
        return Selection(competition, "script", no_holdout="the run began without a holdout")
    return prepare_selection(
        settings.selection,
        competition,
        run_dir.input_dir,
        run_dir.holdout_dir,
        settings.run.seed,
        cap=int(settings.execution.submission_cap),
    )


def discover_environment(settings: Settings, executor: Executor) -> Environment:
    """The scripts' environment as the prompt will state it (see :mod:`mlmaster.environment`)."""
    network, source = executor.network, executor.network_source
    environment = discover(
        executor.python,
        [(s.index, s.cpus, s.gpus) for s in executor.pool.slots],
        affinity_cpus=len(executor.affinity),
        network=network,
        network_source=source,
        work_dir=settings.run.runs_dir,
        memory_cap=settings.execution.memory_limit,
        cache_dir=executor.cache_dir,
    )
    python = environment.interpreter
    log.info(
        "environment",
        python=f"{python.path} {python.version or '(not answering)'}",
        packages=len(python.packages),
        cpus=f"{environment.usable_cpus} usable of {environment.affinity_cpus}",
        cpu_quota=environment.cpu_quota,
        gpus=[g.name for s in environment.slots for g in s.gpus],
        network=network,
    )
    return environment


async def search(
    state: RunState, *, output: Path | None = None, handle_signals: bool = True
) -> RunOutcome:
    """Run the workers until the budget ends, the search is exhausted, or a signal arrives."""
    bounds = worker_bounds(state.executor.pool.size, state.settings.search.workers)
    received: list[int] = []
    crew = Crew(state, bounds)
    log.info(
        "run_started",
        workers=bounds.start,
        most_workers=bounds.most,
        slots=state.executor.pool.size,
    )

    async with anyio.create_task_group() as outer:
        outer.start_soon(show_progress, lambda: snapshot(state))
        outer.start_soon(_refresh_report, state)
        if handle_signals:
            outer.start_soon(_watch_signals, outer.cancel_scope, received)
        # At the deadline the scope is cancelled: running scripts are killed, steps abandoned.
        with anyio.move_on_after(state.budget.working_time_left) as deadline:
            async with anyio.create_task_group() as workers:
                crew.start(workers)
        if deadline.cancelled_caught:
            state.status.stop("time limit reached")
        outer.cancel_scope.cancel()

    if received:
        state.status.stop_reason = f"signal {signal.Signals(received[0]).name}"
    return await finish(state, output=output, signum=received[0] if received else None)


async def _watch_signals(scope: anyio.CancelScope, received: list[int]) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            if received and signum == signal.SIGINT:
                os._exit(130)  # second Ctrl-C: the user wants out now
            if not received:
                received.append(signum)
                log.warning("stopping", signal=signal.Signals(signum).name)
                scope.cancel()


def snapshot(state: RunState) -> Snapshot:
    """What the live panel and the progress line show, taken now."""
    counts = state.tree.counts()
    best = state.best_node()
    totals = state.accountant.totals()
    return Snapshot(
        competition=state.competition.spec.id,
        elapsed=state.budget.elapsed,
        remaining=state.budget.remaining,
        time_limit=state.settings.budget.time_limit,
        nodes_done=counts.done,
        nodes_valid=counts.valid,
        nodes_buggy=counts.buggy,
        in_flight=counts.in_flight,
        best_metric=best.metric if best else None,
        best_history=tuple(metric for _, metric in state.status.best_history),
        lower_is_better=state.competition.spec.lower_is_better,
        busy_slots=state.executor.pool.busy,
        total_slots=state.executor.pool.size,
        workers=state.status.workers,
        tokens=totals.tokens,
        cost=totals.cost,
    )


async def finish(state: RunState, *, output: Path | None, signum: int | None) -> RunOutcome:
    """Final selection and outputs, shielded so a late signal cannot leave them half done."""
    with anyio.CancelScope(shield=True):
        best = state.choose_final()
        if best is not None:
            if best.metric is None:
                log.warning(
                    "no node printed a metric; keeping the latest valid submission", node=best.id
                )
            refitted = await refit(state, best) if signum is None else None
            await anyio.to_thread.run_sync(state.write_best, best, refitted)
        nodes = state.tree.counts().done
        reason = state.status.stop_reason or "finished"
        await state.journal.append(
            RunEnded(
                reason=reason,
                best=best.id if best else None,
                best_metric=best.metric if best else None,
                elapsed=state.budget.elapsed,
                totals=state.accountant.totals(),
            )
        )
        await anyio.to_thread.run_sync(_write_report, state)
        # Last: the run's own record is safe whatever happens to the copy.
        copied, output_error = None, None
        source = state.run_dir.best_submission
        if output is not None and best is not None and source.is_file():
            try:
                await anyio.to_thread.run_sync(export_submission, source, output)
                copied = output
            except OutputError as error:
                output_error = str(error)
                log.warning("output_copy_failed", error=output_error)
    if signum is not None:
        code = EXIT_SIGNAL.get(signum, 1)
    else:
        code = 0 if best is not None and output_error is None else 1
    return RunOutcome(
        run_dir=state.run_dir.path,
        best_id=best.id if best else None,
        best_metric=best.metric if best else None,
        nodes=nodes,
        stop_reason=reason,
        exit_code=code,
        output=copied,
        output_error=output_error,
    )


async def _refresh_report(state: RunState, every: float = 60.0) -> None:
    """Keep report.html current during a long run, so it can be opened at any time."""
    while True:
        await anyio.sleep(every)
        await anyio.to_thread.run_sync(_write_report, state)


def _write_report(state: RunState) -> None:
    try:
        from mlmaster.report import write_report
    except ImportError:
        return
    try:
        write_report(state.run_dir.path)
    except Exception as error:  # a report must never cost the run its outputs
        log.warning("report_failed", error=f"{type(error).__name__}: {error}")
