"""Read a run directory into a :class:`RunReport`.

Only files are read, never the search code's classes: a report must render for any run, also
one written by an older version or cut short by a crash. Node records are therefore read
defensively (``.get`` with fallbacks), and what the journal lacks is taken from the node's
folder (``plan.md``, ``solution.py``, ``stdout.txt``...).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from mlmaster.errors import UserError
from mlmaster.journal import read_events
from mlmaster.logs import get_logger
from mlmaster.report.model import BestPoint, NodeStatus, NodeView, RoleUsage, RunReport

log = get_logger(__name__)

SESSION_STARTS = ("run_started", "run_resumed")
# Bounds on the text kept per node, so a 500-node report stays a few megabytes.
MAX_PLAN = 20_000
MAX_CODE = 60_000
MAX_OUTPUT = 4_000


def load_run(run_dir: Path) -> RunReport:
    """Everything the report shows about the run in ``run_dir``."""
    journal = run_dir / "journal.jsonl"
    if not journal.is_file():
        raise UserError(
            f"{run_dir} is not a run directory (no journal.jsonl in it); "
            "pass a folder like runs/<competition>/<run-id>"
        )
    events = read_events(journal)
    started = next((e for e in events if e.get("type") == "run_started"), {})
    last_session = _last_session(events)
    ended = (
        last_session[-1] if last_session and last_session[-1].get("type") == "run_ended" else None
    )
    lower = started.get("lower_is_better")
    lower_is_better = bool(lower) if lower is not None else None

    committed = _committed_nodes(events, run_dir)
    uncommitted = _uncommitted_nodes(run_dir, set(committed), ended is not None, len(committed))
    nodes = list(committed.values()) + uncommitted

    best_id = _best_id(ended, nodes, lower_is_better)
    start_time = _as_float(started.get("started")) or _as_float(started.get("time"))
    roles, source = _roles(ended, run_dir)
    return RunReport(
        competition=str(started.get("competition") or run_dir.parent.name),
        run_id=run_dir.name,
        status=f"ended: {ended.get('reason') or 'finished'}" if ended else _unfinished(events),
        lower_is_better=lower_is_better,
        started_at=start_time,
        elapsed=_elapsed(events, ended),
        nodes=nodes,
        best_id=best_id,
        roles=roles,
        roles_source=source,
        best_over_time=_best_over_time(nodes, start_time, lower_is_better),
    )


def _unfinished(events: list[dict[str, Any]]) -> str:
    if not events:
        return "not started (the journal is empty)"
    return "unfinished (running, or stopped without a summary)"


def _last_session(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    starts = [i for i, e in enumerate(events) if e.get("type") in SESSION_STARTS]
    return events[starts[-1] :] if starts else events


def _committed_nodes(events: list[dict[str, Any]], run_dir: Path) -> dict[str, NodeView]:
    """Every committed node, in journal order; a later record of the same id replaces one."""
    nodes: dict[str, NodeView] = {}
    for event in events:
        record = event.get("node")
        if event.get("type") != "node_committed" or not isinstance(record, dict):
            continue
        node_id = record.get("id")
        if node_id in (None, "") or record.get("operator") == "root":
            continue  # the tree's virtual root is drawn by the layout, not listed
        order = nodes[str(node_id)].order if str(node_id) in nodes else len(nodes)
        nodes[str(node_id)] = _node_view(record, run_dir, order, _as_float(event.get("time")))
    return nodes


def _node_view(record: dict[str, Any], run_dir: Path, order: int, when: float | None) -> NodeView:
    node_id = str(record["id"])
    folder = _node_folder(run_dir, node_id)
    execution = record.get("execution") if isinstance(record.get("execution"), dict) else {}
    assert isinstance(execution, dict)
    metric = _as_float(record.get("metric"))
    # "Valid" as the search means it: ran, printed a metric, and its submission passed checks.
    buggy = bool(record.get("buggy")) or metric is None or record.get("valid_submission") is False
    status: NodeStatus = "buggy" if buggy else "valid"
    if str(record.get("status", "")).lower() == "abandoned":
        status = "abandoned"
    parent = record.get("parent_id")
    if parent is None:
        parent = record.get("parent")
    return NodeView(
        id=node_id,
        parent_id=None if parent is None else str(parent),
        operator=str(record.get("operator") or "draft"),
        status=status,
        metric=None if buggy else metric,
        plan=_clip(_text(record.get("plan")) or _file(folder, "plan.md"), MAX_PLAN),
        code=_clip(_text(record.get("code")) or _file(folder, "solution.py"), MAX_CODE),
        output_tail=_output_tail(execution, folder),
        bug_reason=_text(record.get("bug_reason")),
        review_summary=_text(record.get("review_summary")),
        exit_code=_as_int(execution.get("exit_code")),
        exception=_exception(execution),
        runtime=_as_float(execution.get("runtime")),
        worker_id=_text(record.get("worker_id")),
        tokens=int(_as_float(record.get("tokens")) or 0),
        cost=_as_float(record.get("cost")) or 0.0,
        finished_at=_timestamp(record.get("finished_at")) or when,
        order=order,
    )


def _uncommitted_nodes(
    run_dir: Path, committed: set[str], run_ended: bool, first_order: int
) -> list[NodeView]:
    """Node folders with no committed event: steps in flight, or abandoned when the run ended.

    Their parent is not on disk, so they are drawn under the root.
    """
    nodes_dir = run_dir / "nodes"
    if not nodes_dir.is_dir():
        return []
    folders = sorted(
        (p for p in nodes_dir.iterdir() if p.is_dir() and p.name not in committed),
        key=lambda p: p.stat().st_mtime,
    )
    status: NodeStatus = "abandoned" if run_ended else "in_flight"
    return [
        NodeView(
            id=folder.name,
            parent_id=None,
            operator="unknown",
            status=status,
            plan=_clip(_file(folder, "plan.md"), MAX_PLAN),
            code=_clip(_file(folder, "solution.py"), MAX_CODE),
            output_tail=_output_tail({}, folder),
            order=first_order + index,
        )
        for index, folder in enumerate(folders)
    ]


def _node_folder(run_dir: Path, node_id: str) -> Path | None:
    """The node's folder; an id that is not a plain name (a damaged record) has none."""
    if node_id in ("", ".", "..") or "\0" in node_id or Path(node_id).name != node_id:
        return None
    return run_dir / "nodes" / node_id


def _exception(execution: dict[str, Any]) -> str | None:
    if execution.get("timed_out"):
        return "timed out"
    kind, message = (
        _text(execution.get("exception_type")),
        _text(execution.get("exception_message")),
    )
    if not kind:
        return None
    return f"{kind}: {message}" if message else str(kind)


def _output_tail(execution: dict[str, Any], folder: Path | None) -> str:
    tail = _text(execution.get("output_tail"))
    if not tail:
        stdout, stderr = _file(folder, "stdout.txt"), _file(folder, "stderr.txt")
        tail = stdout + ("\n" + stderr if stderr else "")
    return str(tail)[-MAX_OUTPUT:]


def _best_id(
    ended: dict[str, Any] | None, nodes: list[NodeView], lower_is_better: bool | None
) -> str | None:
    """The run's own choice when it recorded one; otherwise the best valid metric."""
    if ended and ended.get("best") is not None:
        chosen = str(ended["best"])
        if any(n.id == chosen for n in nodes):
            return chosen
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


def _elapsed(events: list[dict[str, Any]], ended: dict[str, Any] | None) -> float:
    """The run's own figure when it ended; else the sum of each session's span."""
    if ended and _as_float(ended.get("elapsed")) is not None:
        return float(ended["elapsed"])
    total, start, last = 0.0, None, None
    for event in events:
        when = _as_float(event.get("time"))
        if when is None:
            continue
        if event.get("type") in SESSION_STARTS:
            if start is not None and last is not None:
                total += last - start
            start = when
        last = when
    if start is not None and last is not None:
        total += last - start
    return total


def _roles(ended: dict[str, Any] | None, run_dir: Path) -> tuple[list[RoleUsage], str]:
    """Tokens and cost per role.

    The accountant's totals in ``run_ended`` are exact (they count failed calls too), so they
    win when the last session ended; a run cut short has only its recorded exchanges.
    """
    totals = ended.get("totals") if ended else None
    roles = totals.get("roles") if isinstance(totals, dict) else None
    if isinstance(roles, dict) and roles:
        return [
            _role_usage(name, data) for name, data in roles.items() if isinstance(data, dict)
        ], ("the run's own totals (run_ended)")
    exchanges = list(_exchanges(run_dir))
    if exchanges:
        return _sum_exchanges(exchanges), "summed from the recorded LLM exchanges"
    return [], "no LLM calls recorded"


def _role_usage(name: str, data: dict[str, Any]) -> RoleUsage:
    return RoleUsage(
        role=name,
        calls=int(_as_float(data.get("calls")) or 0),
        input_tokens=int(_as_float(data.get("input_tokens")) or 0),
        output_tokens=int(_as_float(data.get("output_tokens")) or 0),
        cost=_as_float(data.get("cost")) or 0.0,
        latency=_as_float(data.get("latency")) or 0.0,
    )


def _exchanges(run_dir: Path) -> Iterable[dict[str, Any]]:
    for path in sorted((run_dir / "nodes").glob("*/exchanges.jsonl")):
        for line in _read(path).splitlines():
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


def _file(folder: Path | None, name: str) -> str:
    return "" if folder is None else _read(folder / name)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


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


def _timestamp(value: Any) -> float | None:
    """Unix seconds from a number or an ISO 8601 string (node records may hold either)."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    return _as_float(value)


def _as_int(value: Any) -> int | None:
    number = _as_float(value)
    return None if number is None else int(number)


def _text(value: Any) -> str | None:
    """A string field of a record, or ``None``; other JSON values are shown as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)
