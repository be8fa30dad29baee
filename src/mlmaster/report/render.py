"""Render a :class:`RunReport` to one self-contained HTML file.

Everything the page needs is inside it: CSS and JS inline, the tree and the chart drawn as SVG
here, and each node's details as JSON in a ``<script type="application/json">`` that the page's
script reads when a node is clicked. A Content-Security-Policy forbids any network fetch.

Plans, code and output are untrusted text (an LLM wrote them, a script printed them): jinja2
escapes everything put into HTML, and the embedded JSON escapes ``<``, ``>`` and ``&`` so that
no ``</script>`` inside it can end the element.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from mlmaster.report.chart import best_chart
from mlmaster.report.layout import layout_tree
from mlmaster.report.load import load_run
from mlmaster.report.model import NodeView, RunReport

REPORT_FILE = "report.html"

# Fills per status; valid nodes get a green-to-yellow scale by metric rank instead.
STATUS_FILL = {
    "buggy": "#d73a3a",
    "unknown_validity": "#5b8def",
    "in_flight": "#9aa0a6",
    "abandoned": "#c8cbcf",
}

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("mlmaster.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def write_report(run_dir: Path) -> Path:
    """Write ``run_dir/report.html`` from the run's files and return its path.

    Written to a temporary file and renamed, so a reader never sees half a report.
    """
    html = render_report(load_run(run_dir))
    target = run_dir / REPORT_FILE
    handle, temporary = tempfile.mkstemp(dir=run_dir, prefix=".report-", suffix=".html")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(html)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a report is for sharing
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def render_report(report: RunReport) -> str:
    return _env.get_template("report.html.j2").render(
        report=report,
        tree=layout_tree(report.nodes),
        nodes={n.id: n for n in report.nodes},
        fills=node_fills(report),
        chart=best_chart(report),
        data_json=embed_json(_page_data(report)),
        duration=format_duration,
        direction=_direction(report.lower_is_better),
        counts=node_counts(report),
    )


def node_counts(report: RunReport) -> str:
    """E.g. "12 committed: 9 valid, 3 buggy; 2 in flight"."""
    text = (
        f"{len(report.committed)} committed: "
        f"{report.count('valid')} valid, {report.count('buggy')} buggy"
    )
    if unknown := report.count("unknown_validity"):
        text += f", {unknown} of unknown validity"
    if in_flight := report.count("in_flight"):
        text += f"; {in_flight} in flight"
    if abandoned := report.count("abandoned"):
        text += f"; {abandoned} abandoned"
    return text


def node_fills(report: RunReport) -> dict[str, str]:
    """A fill colour per node: status colours, and for valid nodes their metric rank, from
    dark green (the best) to yellow (the worst)."""
    valid = [n for n in report.nodes if n.status == "valid" and n.metric is not None]
    ranked = sorted(valid, key=lambda n: n.metric or 0.0, reverse=not report.lower_is_better)
    fills = {n.id: STATUS_FILL.get(n.status, "#9aa0a6") for n in report.nodes}
    for rank, node in enumerate(ranked):
        share = rank / (len(ranked) - 1) if len(ranked) > 1 else 0.0
        hue, lightness = 145 - 85 * share, 30 + 25 * share
        fills[node.id] = f"hsl({hue:.0f},65%,{lightness:.0f}%)"
    return fills


def embed_json(data: Any) -> Markup:
    """JSON that is safe inside a <script> element: no '<', '>' or '&' appears literally, so
    neither '</script>' nor '<!--' can change how the HTML parser reads the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return Markup(text)  # safe: escaped above for the script-data context


def _page_data(report: RunReport) -> dict[str, Any]:
    return {
        "best": report.best_id,
        "lower_is_better": report.lower_is_better,
        "nodes": {n.id: _node_data(n) for n in report.nodes},
    }


def _node_data(node: NodeView) -> dict[str, Any]:
    # Drawing-only fields stay out of the page's data.
    return node.model_dump(mode="json", exclude={"finished_at", "order"})


def _direction(lower_is_better: bool | None) -> str:
    if lower_is_better is None:
        return "direction unknown"
    return "lower is better" if lower_is_better else "higher is better"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    whole = int(max(0.0, seconds))
    return f"{whole // 3600:d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
