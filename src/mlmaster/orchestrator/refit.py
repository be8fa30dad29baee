"""``selection.refit``: rerun the chosen node's script once on every training row.

The holdout cost the scripts a tenth of their training rows. Once the holdout has chosen, its
rows are worth more to the final model than to another comparison: the chosen script runs again
on a folder holding the whole training table (``<run>/refit/``), within the time the run has
left, and its submission replaces the chosen node's when it is valid. Anything short of that
(no time, a crash, an invalid file) keeps the node's own submission, with a log line saying why.
"""

from __future__ import annotations

from pathlib import Path

import anyio

from mlmaster.competition.validators import ValidationUnavailable
from mlmaster.execution.workspace import Workspace
from mlmaster.logs import get_logger
from mlmaster.orchestrator.state import RunState
from mlmaster.search.node import Node
from mlmaster.selection.inputs import full_input

log = get_logger(__name__)

RUNTIME_FACTOR = 1.5  # a refit starts only if the time left holds this many of its runtimes
MARGIN = 5.0  # seconds kept after the refit for best/, the journal and the report


async def refit(state: RunState, best: Node) -> Path | None:
    """The refitted submission of ``best``, or ``None`` (logged) when it is not to be had."""
    selection = state.selection
    if not state.settings.selection.refit or selection is None or selection.derived is None:
        return None
    if not selection.rank_by_holdout or best.metric is None:
        return None
    runtime = best.execution.runtime if best.execution else 0.0
    left = state.budget.remaining - MARGIN
    if left < RUNTIME_FACTOR * runtime or left <= 0:
        log.info(
            "refit_skipped",
            node=best.id,
            reason=f"{left:.0f} s left, the script ran {runtime:.0f} s",
        )
        return None
    folder = state.run_dir.refit_dir
    derived = selection.derived
    inputs = await anyio.to_thread.run_sync(full_input, derived, folder / "input")
    workspace = await anyio.to_thread.run_sync(
        Workspace.create,
        folder / "workspace",
        inputs,
        (derived.source_dir, derived.input_dir),
    )
    log.info("refit_started", node=best.id, timeout=round(left))
    result = await state.executor.run(workspace, timeout=left, script=best.code)
    if result.exit_code != 0 or result.submission_path is None:
        why = result.killed_reason or f"exit code {result.exit_code}"
        if result.submission_path is None and result.exit_code == 0:
            why = "no submission.csv written"
        log.warning("refit_failed", node=best.id, reason=why)
        return None
    try:
        verdict = await state.validate(result.submission_path)
    except ValidationUnavailable as error:
        log.warning("refit_failed", node=best.id, reason=f"no verdict on it: {error}")
        return None
    if not verdict.is_valid:
        log.warning("refit_failed", node=best.id, reason=verdict.message)
        return None
    log.info("refit_kept", node=best.id, runtime=round(result.runtime, 1))
    return result.submission_path
