"""The run report: one self-contained ``report.html`` drawn from a run directory's files."""

from mlmaster.report.load import load_run
from mlmaster.report.model import BestPoint, NodeView, RoleUsage, RunReport
from mlmaster.report.render import REPORT_FILE, render_report, write_report

__all__ = [
    "REPORT_FILE",
    "BestPoint",
    "NodeView",
    "RoleUsage",
    "RunReport",
    "load_run",
    "render_report",
    "write_report",
]
