"""``mlmaster report RUN_DIR``: (re)write a run's ``report.html`` from its files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlmaster.cli.common import fail
from mlmaster.errors import UserError


def report_command(
    run_dir: Annotated[
        Path,
        typer.Argument(
            help="A run directory, runs/<competition>/<run-id> (it holds journal.jsonl).",
            show_default=False,
        ),
    ],
) -> None:
    """Write RUN_DIR/report.html: the tree, each node's plan, code and output, the best score
    over time, and tokens and cost by role. Works on a finished, running or crashed run."""
    # Imported here so that other commands start without loading jinja2 and the templates.
    from mlmaster.report import write_report

    if not run_dir.is_dir():
        fail(f"{run_dir} is not a folder; pass a run directory like runs/<competition>/<run-id>")
    try:
        path = write_report(run_dir)
    except UserError as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot write the report in {run_dir}: {error.strerror or error}")
    typer.echo(str(path))
