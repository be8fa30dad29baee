"""Read a run directory into a :class:`RunReport`.

The journal's events arrive typed (:mod:`mlmaster.journal.events`); a line the reader could not
use was skipped there with a warning, so a report renders for any run, also one cut short by a
crash. What a node's record lacks is taken from its folder (:class:`NodeDir`), and folders with
no committed event are the steps that were in flight.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from mlmaster.execution.sandbox import SandboxInfo
from mlmaster.journal import (
    JournalEvent,
    NodeCommitted,
    NodeDir,
    RunDir,
    RunEnded,
    RunStarted,
    read_events,
    sessions,
    time_spent,
)
from mlmaster.logs import get_logger
from mlmaster.report.model import BestPoint, NodeStatus, NodeView, RoleUsage, RunReport
from mlmaster.search.node import Node

log = get_logger(__name__)

# Bounds on the text kept per node, so a 500-node report stays a few megabytes.
MAX_PLAN = 20_000
MAX_CODE = 60_000
MAX_OUTPUT = 4_000


def load_run(run_dir: Path) -> RunReport:
    """Everything the report shows about the run in ``run_dir``."""
    run = RunDir.existing(run_dir)
    events = read_events(run.journal)
    started = next((e for e in events if isinstance(e, RunStarted)), None)
    last_session = sessions(events)[-1] if events else []
    ended = last_session[-1] if last_session and isinstance(last_session[-1], RunEnded) else None
    lower_is_better = started.lower_is_better if started else None

    committed = _committed_nodes(events, run)
    uncommitted = _uncommitted_nodes(run, set(committed), ended is not None, len(committed))
    nodes = list(committed.values()) + uncommitted

    best_id = _best_id(ended, nodes, lower_is_better)
    start_time = (started.started or started.time) if started else None
    roles, source = _roles(ended, run)
    return RunReport(
        competition=started.competition if started else run_dir.parent.name,
        run_id=run.id,
        status=f"ended: {ended.reason or 'finished'}" if ended else _unfinished(events),
        lower_is_better=lower_is_better,
        started_at=start_time,
        elapsed=time_spent(events),
        nodes=nodes,
        best_id=best_id,
        roles=roles,
        roles_source=source,
        best_over_time=_best_over_time(nodes, start_time, lower_is_better),
        setup=setup_facts(started) if started else [],
        unsandboxed=unsandboxed_warning(started) if started else None,
    )


def setup_facts(started: RunStarted) -> list[tuple[str, str]]:
    """The metric choice and environment a run recorded at its start, one line each."""
    from mlmaster.competition.metric_choice import MetricChoice
    from mlmaster.environment import Environment
    from mlmaster.selection.setup import selection_line

    facts: list[tuple[str, str]] = []
    try:
        if started.metric_choice:
            facts.append(("metric", MetricChoice.model_validate(started.metric_choice).line()))
        if started.sandbox:
            facts.append(("sandbox", sandbox_line(started.sandbox)))
        if started.selection:
            facts.append(("selection", selection_line(started.selection)))
        if started.environment:
            facts.extend(Environment.model_validate(started.environment).facts())
    except ValueError:  # a journal from another version: show what could be read
        pass
    return facts


def sandbox_line(sandbox: SandboxInfo) -> str:
    network = "network reachable" if sandbox.network else "no network"
    return f"{sandbox.name}: scripts run as {sandbox.user}; {network}"


def unsandboxed_warning(started: RunStarted) -> str | None:
    """The banner for a run whose scripts ran unconfined: what they could reach."""
    sandbox = started.sandbox
    if sandbox is None or sandbox.confined:
        return None
    reach = "; ".join(sandbox.exposes) or "whatever their user can read on this host"
    return f"Scripts ran without a sandbox, as {sandbox.user}. They could reach: {reach}."


def _unfinished(events: list[JournalEvent]) -> str:
    if not events:
        return "not started (the journal is empty)"
    return "unfinished (running, or stopped without a summary)"


def _committed_nodes(events: list[JournalEvent], run: RunDir) -> dict[str, NodeView]:
    """Every committed node, in journal order (the reader keeps one record per node)."""
    nodes: dict[str, NodeView] = {}
    for event in events:
        if not isinstance(event, NodeCommitted) or event.node.operator == "root":
            continue  # the tree's virtual root is drawn by the layout, not listed
        nodes[event.node.id] = _node_view(event.node, _node_dir(run, event.node.id), len(nodes))
        if nodes[event.node.id].finished_at is None:
            nodes[event.node.id].finished_at = event.time or None
    return nodes


def _node_view(node: Node, folder: NodeDir | None, order: int) -> NodeView:
    status = _status(node)
    buggy = status == "buggy"
    execution = node.execution
    return NodeView(
        id=node.id,
        parent_id=node.parent_id,
        operator=node.operator,
        status=status,
        metric=None if buggy else _finite(node.metric),
        script_metric=None if buggy else _finite(node.script_metric),
        holdout_metric=None if buggy else _finite(node.holdout_metric),
        plan=_clip(node.plan or _file(folder, lambda f: f.plan), MAX_PLAN),
        code=_clip(node.code or _file(folder, lambda f: f.solution), MAX_CODE),
        output_tail=_output_tail(execution.output_tail if execution else "", folder),
        bug_reason=node.bug_reason,
        review_summary=node.review_summary,
        exit_code=execution.exit_code if execution else None,
        exception=_exception(execution) if execution else None,
        runtime=execution.runtime if execution else None,
        worker_id=node.worker_id,
        tokens=node.tokens,
        cost=node.cost,
        finished_at=node.finished_at or None,
        order=order,
    )


def _status(node: Node) -> NodeStatus:
    """ "Valid" as the search means it: ran, printed a metric, and its submission passed checks.

    The bug decision makes a node with an invalid submission buggy, so a node that is not buggy
    and has a metric but no valid submission is one whose validity nobody could check.
    """
    if node.buggy or node.metric is None:
        return "buggy"
    return "valid" if node.valid_submission else "unknown_validity"


def _uncommitted_nodes(
    run: RunDir, committed: set[str], run_ended: bool, first_order: int
) -> list[NodeView]:
    """Node folders with no committed event: steps in flight, or abandoned when the run ended.

    Their parent is not on disk, so they are drawn under the root.
    """
    folders = sorted(
        (node for node in run.node_dirs() if node.id not in committed),
        key=lambda node: node.path.stat().st_mtime,
    )
    status: NodeStatus = "abandoned" if run_ended else "in_flight"
    return [
        NodeView(
            id=folder.id,
            parent_id=None,
            operator="unknown",
            status=status,
            plan=_clip(_file(folder, lambda f: f.plan), MAX_PLAN),
            code=_clip(_file(folder, lambda f: f.solution), MAX_CODE),
            output_tail=_output_tail("", folder),
            order=first_order + index,
        )
        for index, folder in enumerate(folders)
    ]


def _node_dir(run: RunDir, node_id: str) -> NodeDir | None:
    """The node's folder; an id that is not a plain name (a damaged record) has none."""
    try:
        return run.node(node_id)
    except ValueError:
        return None


def _exception(execution: Any) -> str | None:
    if execution.timed_out:
        return "timed out"
    kind, message = execution.exception_type, execution.exception_message
    if not kind:
        return None
    return f"{kind}: {message}" if message else str(kind)


def _output_tail(tail: str, folder: NodeDir | None) -> str:
    if not tail:
        stdout, stderr = _file(folder, lambda f: f.stdout), _file(folder, lambda f: f.stderr)
        tail = stdout + ("\n" + stderr if stderr else "")
    return tail[-MAX_OUTPUT:]


def _best_id(
    ended: RunEnded | None, nodes: list[NodeView], lower_is_better: bool | None
) -> str | None:
    """The run's own choice when it recorded one; otherwise the best valid metric."""
    if ended and ended.best is not None and any(n.id == ended.best for n in nodes):
        return ended.best
    valid = [n for n in nodes if n.status == "valid" and n.metric is not None]
    if not valid:
        return None
    pick = min if lower_is_better else max
    return pick(valid, key=lambda n: n.metric or 0.0).id


def _best_over_time(
    nodes: list[NodeView], start: float | None, lower_is_better: bool | None
) -> list[BestPoint]:
    """One point each time a committed node beat the best so far, in finish order."""
    valid = [n for n in nodes if n.status == "valid" and n.metric is not None and n.finished_at]
    valid.sort(key=lambda n: (n.finished_at or 0.0, n.order))
    if not valid:
        return []
    origin = start if start is not None else valid[0].finished_at or 0.0
    points: list[BestPoint] = []
    for node in valid:
        assert node.metric is not None and node.finished_at is not None
        if points and not _better(node.metric, points[-1].metric, lower_is_better):
            continue
        points.append(
            BestPoint(
                seconds=max(0.0, node.finished_at - origin), metric=node.metric, node_id=node.id
            )
        )
    return points


def _better(a: float, b: float, lower_is_better: bool | None) -> bool:
    return a < b if lower_is_better else a > b


def _roles(ended: RunEnded | None, run: RunDir) -> tuple[list[RoleUsage], str]:
    """Tokens and cost per role.

    The accountant's totals in ``run_ended`` are exact (they count failed calls too), so they
    win when the last session ended; a run cut short has only its recorded exchanges.
    """
    if ended and ended.totals.roles:
        return [
            RoleUsage(
                role=name,
                calls=role.calls,
                input_tokens=role.input_tokens,
                output_tokens=role.output_tokens,
                cost=role.cost,
                latency=role.latency,
            )
            for name, role in ended.totals.roles.items()
        ], "the run's own totals (run_ended)"
    exchanges = list(_exchanges(run))
    if exchanges:
        return _sum_exchanges(exchanges), "summed from the recorded LLM exchanges"
    return [], "no LLM calls recorded"


def _exchanges(run: RunDir) -> Iterable[dict[str, Any]]:
    for node in run.node_dirs():
        for line in node.read_text(node.exchanges).splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a torn line from a crash: skip it, the report is best effort
            if isinstance(record, dict):
                yield record


def _sum_exchanges(exchanges: list[dict[str, Any]]) -> list[RoleUsage]:
    by_role: dict[str, RoleUsage] = {}
    for exchange in exchanges:
        role = by_role.setdefault(
            str(exchange.get("role") or "?"), RoleUsage(role=str(exchange.get("role") or "?"))
        )
        usage = exchange.get("usage") if isinstance(exchange.get("usage"), dict) else {}
        assert isinstance(usage, dict)
        role.calls += 1
        role.input_tokens += int(_as_float(usage.get("input_tokens")) or 0)
        role.output_tokens += int(_as_float(usage.get("output_tokens")) or 0)
        role.cost += _as_float(usage.get("cost")) or 0.0
        role.latency += _as_float(exchange.get("latency")) or 0.0
    return list(by_role.values())


def _file(folder: NodeDir | None, pick: Callable[[NodeDir], Path]) -> str:
    """One file of a node's folder, e.g. ``_file(folder, lambda f: f.plan)``; ``""`` if none."""
    return "" if folder is None else folder.read_text(pick(folder))


def _clip(text: str, limit: int) -> str:
    text = str(text)
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} characters cut from the report ...]"


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None  # NaN and infinities count as missing


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
