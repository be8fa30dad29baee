"""One step of one worker: select, context, generate, execute, review, commit.

The tree is touched only at the two ends (select and commit), each synchronous and so whole
between two awaits; everything between is awaited, so many workers' LLM calls and scripts
overlap. The node folder's files are written in worker threads, never on the event loop (a
write on a busy disk can take milliseconds, and every other worker would wait for it). A thread
hop costs two thread wake-ups, which on a loaded machine wait for a CPU (and for the GIL while
the loop works), so the step waits for as few as it can: the workspace is made while the
coder's call is awaited, the script is written in the hop that starts it, the review's files go
with the journal event that commits the node. The rest is written beside what the step waits
for anyway: the answer's plan, exchange and solution while the script runs, the execution's
files while the submission is checked and the review asked. All of them are written before the
event (a journaled node has all its files), and a step that fails after its script still leaves
them behind; one that gets no answer leaves nothing.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator

import anyio
from anyio.abc import TaskGroup

from mlmaster.competition.validators import ValidationUnavailable
from mlmaster.execution.pruning import prune_working
from mlmaster.execution.result import ExecutionResult
from mlmaster.execution.workspace import Workspace
from mlmaster.journal import NodeCommitted, NodeDir
from mlmaster.llm.extract import parse_metric_line
from mlmaster.llm.requests import (
    CodeAnswer,
    CodeRequest,
    Exchange,
    Hardware,
    ParentSolution,
    Review,
    ReviewRequest,
)
from mlmaster.logs import bind_ids, get_logger
from mlmaster.memory import insight_from_node
from mlmaster.orchestrator.state import RunState
from mlmaster.orchestrator.timing import StepTiming
from mlmaster.search import Expansion, Outcome
from mlmaster.search.node import ExecutionSummary, Node
from mlmaster.search.verdict import Evidence, judge
from mlmaster.selection.scoring import HoldoutScore

log = get_logger(__name__)


async def run_step(state: RunState, expansion: Expansion, worker_id: str) -> None:
    """Carry one reserved expansion to its commit. The caller abandons it if this raises."""
    node_id = expansion.child_id
    timing = StepTiming(node_id)
    bind_ids(node=node_id)
    node_dir = state.run_dir.node(node_id)
    timeout = state.budget.exec_timeout()
    if timeout is None:
        raise _NoTime()

    request = build_code_request(state, expansion, timeout)
    answer, workspace = await _answer_and_workspace(state, request, node_dir, timing)
    _account(state, answer.exchange)

    review: Review | None = None
    with _lone_error_unwrapped():
        async with anyio.create_task_group() as files:  # files written beside the step's waits
            if answer.code is None:
                await anyio.to_thread.run_sync(_keep_answer, node_dir, answer)
                outcome = _no_code_outcome(answer)
            else:
                outcome, review = await _execute_and_review(
                    state, expansion, request, answer, workspace, timing, files
                )

    outcome.worker_id = worker_id
    best_before = state.tree.best_node()
    node = state.tree.commit(expansion, outcome)
    new_best = state.tree.best_node() is node and best_before is not node
    state.memory.add(insight_from_node(node))
    began = time.perf_counter()
    await anyio.to_thread.run_sync(_keep_commit, state, node_dir, review, node)
    timing.journal_s = time.perf_counter() - began
    timing.finish()
    state.status.step_timings.append(timing)
    if new_best and node.metric is not None:
        state.status.record_best(state.budget.elapsed, node.metric)
    if new_best or state.settings.execution.keep_working is not None:
        await anyio.to_thread.run_sync(_after_commit, state, node, best_before, new_best)
    state.status.signal_commit()
    log.info(
        "node_committed",
        operator=node.operator,
        metric=node.metric,
        buggy=node.buggy,
        new_best=new_best,
    )


async def _answer_and_workspace(
    state: RunState, request: CodeRequest, node_dir: NodeDir, timing: StepTiming
) -> tuple[CodeAnswer, Workspace]:
    """The coder's answer, and the script's workspace made while the coder thinks, so that
    once the answer comes only the script is left to write before it starts.

    A step that gets no answer (an LLM error, no time left) leaves no folder behind: the
    workspace made for it is removed again.
    """
    made: list[Workspace] = []

    async def prepare() -> None:
        made.append(await anyio.to_thread.run_sync(_make_workspace, state, node_dir))

    began = time.perf_counter()
    try:
        with _lone_error_unwrapped():
            async with anyio.create_task_group() as early:
                early.start_soon(prepare)
                answer = await state.coder.generate(request)
                answered = time.perf_counter()
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_discard_workspace, node_dir, True)
        raise
    timing.coder_s = answered - began
    timing.workspace_s = time.perf_counter() - answered  # what the answer waited for after
    return answer, made[0]


@contextlib.contextmanager
def _lone_error_unwrapped() -> Iterator[None]:
    """A task group wraps even the step's own lone exception; unwrapped, the worker still
    tells a step that ran out of time, or an LLM error, from a failure."""
    try:
        yield
    except BaseExceptionGroup as failed:
        if len(failed.exceptions) == 1:
            raise failed.exceptions[0] from None
        raise


def _keep_answer(node_dir: NodeDir, answer: CodeAnswer) -> None:
    """The coder's exchange, plan and solution, first in the node's folder (blocking: in a
    thread). An answer with no code has no use for the workspace made for it."""
    if answer.code is None:
        _discard_workspace(node_dir)
    node_dir.create()
    if answer.exchange is not None:
        node_dir.append_exchange(answer.exchange)
    node_dir.write_plan(answer.plan or "")
    if answer.code is not None:
        node_dir.write_solution(answer.code)


def _make_workspace(state: RunState, node_dir: NodeDir) -> Workspace:
    """The script's workspace, still without its script (blocking: in a thread)."""
    selection = state.selection
    return Workspace.create(
        node_dir.workspace,
        selection.public_dir if selection else state.competition.paths.public_dir,
        selection.also_readable if selection else (),
        selection.overlays if selection else (),
    )


def _discard_workspace(node_dir: NodeDir, folder_too: bool = False) -> None:
    """Remove a workspace no script ran in (blocking: in a thread); ``folder_too``: the node's
    folder as well, when nothing else is in it. Its input/ is a link, which goes, not what it
    points at."""
    shutil.rmtree(node_dir.workspace, ignore_errors=True)
    if folder_too:
        with contextlib.suppress(OSError):  # absent, or holds files of an earlier session
            node_dir.path.rmdir()


def _keep_commit(state: RunState, node_dir: NodeDir, review: Review | None, node: Node) -> None:
    """The review's files, then the fsynced event that commits the node (blocking: in a
    thread). The event comes last: a journaled node has all its files."""
    if review is not None:
        if review.exchange is not None:
            node_dir.append_exchange(review.exchange)
        node_dir.write_review(review)
    state.journal.append_sync(NodeCommitted(node=node))


def _after_commit(state: RunState, node: Node, best_before: Node | None, new_best: bool) -> None:
    """``best/`` for a new best, then the working/ folders that may go (blocking: in a thread,
    one hop for both). The best node keeps its working/; any other's (and a best just
    overtaken) is pruned above execution.keep_working."""
    if new_best:
        state.write_best(node)
    limit = state.settings.execution.keep_working
    if limit is None:
        return
    for pruned in (best_before if new_best else None, None if new_best else node):
        if pruned is not None:
            prune_working(state.run_dir.node(pruned.id).workspace / "working", limit)


class _NoTime(Exception):
    """Too little time is left for this step; the caller abandons it quietly."""


def build_code_request(state: RunState, expansion: Expansion, timeout: float) -> CodeRequest:
    parent = state.tree.nodes.get(expansion.parent_id) if expansion.parent_id else None
    parent_view = None
    if parent is not None and not state.tree.is_root(parent.id):
        parent_view = ParentSolution.from_node(parent, state.execution_of(parent.id))
    memory = state.memory.context(state.tree, expansion.parent_id, expansion.operator)
    slot = state.executor.hardware().per_script
    selection = state.selection
    return CodeRequest(
        operator=expansion.operator,
        node_id=expansion.child_id,
        competition=state.competition.spec,
        description=state.description,
        public_dir=selection.public_dir if selection else state.competition.paths.public_dir,
        data_preview=state.data_preview,
        parent=parent_view,
        memory=memory,
        time_left=state.budget.remaining,
        exec_timeout=timeout,
        hardware=Hardware(
            cpus=len(slot.cpus), gpus=list(slot.gpus), memory_limit=slot.memory_limit
        ),
        environment=state.environment,
        seed=state.settings.run.seed,
        in_flight_siblings=sum(
            1
            for other in state.tree.pending()
            if other.parent_id == expansion.parent_id and other.child_id != expansion.child_id
        ),
        holdout=selection.holdout if selection else None,
    )


async def _execute_and_review(
    state: RunState,
    expansion: Expansion,
    request: CodeRequest,
    answer: CodeAnswer,
    workspace: Workspace,
    timing: StepTiming,
    files: TaskGroup,
) -> tuple[Outcome, Review]:
    """Run the answer's script in ``workspace``, check and review what it did; the node
    folder's files are written in ``files``, beside the waits."""
    assert answer.code is not None
    run_node_dir = state.run_dir.node(expansion.child_id)
    files.start_soon(anyio.to_thread.run_sync, _keep_answer, run_node_dir, answer)

    def script_timeout() -> float:
        # Asked once the slot is leased: the LLM call and the queue took time, so the script
        # gets what is left now, and never more than the prompt promised it.
        timeout = state.budget.exec_timeout()
        if timeout is None:
            raise _NoTime()
        return min(timeout, request.exec_timeout)

    queued = time.perf_counter()
    result = await state.executor.run(workspace, timeout=script_timeout, script=answer.code)
    timing.slot_wait_s = result.queue_wait
    timing.exec_s = time.perf_counter() - queued - result.queue_wait
    files.start_soon(anyio.to_thread.run_sync, run_node_dir.write_execution, result)
    return await _judge(state, expansion, answer, result, workspace, timing)


async def _judge(
    state: RunState,
    expansion: Expansion,
    answer: CodeAnswer,
    result: ExecutionResult,
    workspace: Workspace,
    timing: StepTiming,
) -> tuple[Outcome, Review]:
    """The submission checked, the holdout scored, the review asked: the node's outcome."""
    selection = state.selection
    metric = parse_metric_line(result.stdout.text)
    valid, message = await _validate(state, result, timing)
    holdout = None
    if selection is not None and selection.holdout is not None:  # no holdout: no thread hop
        holdout = await anyio.to_thread.run_sync(
            selection.score,
            workspace.root,
            state.run_dir.node(expansion.child_id).holdout_predictions,
        )

    began = time.perf_counter()
    review: Review = await state.reviewer.review(
        ReviewRequest(
            node_id=expansion.child_id,
            competition=state.competition.spec,
            description=state.description,
            plan=answer.plan,
            code=answer.code,
            execution=result,
            metric_from_output=metric,
            submission_valid=valid,
            submission_message=message,
        )
    )
    timing.review_s = time.perf_counter() - began
    _account(state, review.exchange)
    rank_by_holdout = selection is not None and selection.rank_by_holdout
    outcome = _outcome(answer, result, metric, valid, message, review, holdout, rank_by_holdout)
    return outcome, review


async def _validate(
    state: RunState, result: ExecutionResult, timing: StepTiming
) -> tuple[bool | None, str]:
    """The validator's verdict on the kept submission: valid or not (None: unknown), and why."""
    if result.submission_path is None:
        return None, ""
    began = time.perf_counter()
    try:
        verdict = await state.validate(result.submission_path)
        return verdict.is_valid, verdict.message
    except ValidationUnavailable as error:
        # No verdict (the grader stayed down past grader.patience) is not the node's fault:
        # its validity stays unknown, it is not called buggy.
        log.warning("validation_unavailable", error=str(error))
        return None, f"validation unavailable: {error}"
    finally:
        timing.validate_s = time.perf_counter() - began


def _outcome(
    answer: CodeAnswer,
    result: ExecutionResult,
    metric: float | None,
    valid: bool | None,
    message: str,
    review: Review,
    holdout: HoldoutScore | None = None,
    rank_by_holdout: bool = False,
) -> Outcome:
    verdict = judge(
        Evidence(
            execution=result,
            metric_line=metric,
            submission_valid=valid,
            submission_message=message,
            review_buggy=review.buggy,
            review_bug_reason=review.bug_reason,
            review_metric=review.metric,
            holdout_score=holdout.score if holdout else None,
            holdout_problem=holdout.problem if holdout else None,
            rank_by_holdout=rank_by_holdout,
        )
    )
    return Outcome(
        plan=answer.plan,
        code=answer.code or "",
        execution=ExecutionSummary.from_result(result),
        metric=verdict.metric,
        script_metric=verdict.script_metric,
        holdout_metric=verdict.holdout_metric,
        valid_submission=verdict.valid_submission,
        buggy=verdict.buggy,
        bug_reason=verdict.bug_reason,
        review_summary=review.summary,
        input_tokens=_input_tokens(answer.exchange) + _input_tokens(review.exchange),
        output_tokens=_output_tokens(answer.exchange) + _output_tokens(review.exchange),
        cost=_cost(answer.exchange) + _cost(review.exchange),
    )


def _no_code_outcome(answer: CodeAnswer) -> Outcome:
    return Outcome(
        plan=answer.plan,
        code="",
        execution=None,
        metric=None,
        valid_submission=False,
        buggy=True,
        bug_reason=answer.refused or "the answer held no Python script",
        review_summary="no code block in the answer",
        input_tokens=_input_tokens(answer.exchange),
        output_tokens=_output_tokens(answer.exchange),
        cost=_cost(answer.exchange),
    )


def _account(state: RunState, exchange: Exchange | None) -> None:
    """Count the calls no endpoint counted already (the node folder keeps every exchange)."""
    if exchange is not None and not exchange.accounted:
        state.accountant.add_exchange(exchange)


def _input_tokens(exchange: Exchange | None) -> int:
    return 0 if exchange is None else exchange.usage.input_tokens


def _output_tokens(exchange: Exchange | None) -> int:
    return 0 if exchange is None else exchange.usage.output_tokens


def _cost(exchange: Exchange | None) -> float:
    return 0.0 if exchange is None else exchange.usage.cost
