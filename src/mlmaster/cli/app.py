"""The ``mlmaster`` command: one Typer app, one module per command."""

from __future__ import annotations

from typing import Annotated

import typer

from mlmaster import __version__
from mlmaster.cli.bench_cmd import bench_command
from mlmaster.cli.check_cmd import check_command
from mlmaster.cli.grade_cmd import grade_command
from mlmaster.cli.report_cmd import report_command
from mlmaster.cli.run_cmd import run_command
from mlmaster.cli.serve_cmd import serve_command
from mlmaster.cli.settings_cmd import settings_command
from mlmaster.cli.suite_cmd import suite_app
from mlmaster.cli.sweep_cmd import sweep_app
from mlmaster.errors import UserError
from mlmaster.logs import configure_logging

app = typer.Typer(
    name="mlmaster",
    help="ML-Master as an asyncio service: a parallel tree search over solution scripts "
    "for MLE-bench competitions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mlmaster {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            help="debug, info, warning or error on the console (runs default to log.level, "
            "info; they also write log.jsonl).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
) -> None:
    level = (log_level or "warning").lower()
    if level not in ("debug", "info", "warning", "error"):
        raise typer.BadParameter(
            f"{log_level!r} is not a level; use debug, info, warning or error",
            param_hint="--log-level",
        )
    configure_logging(level)
    # Commands that configure logging again (run) honour an explicit flag over settings.
    ctx.obj = {"log_level": level if log_level else None}


app.command("settings")(settings_command)
app.command("run")(run_command)
app.command("check")(check_command)
app.command("grade")(grade_command)
app.command("serve")(serve_command)
app.command("report")(report_command)
app.add_typer(suite_app, name="suite")
app.command("bench")(bench_command)
app.add_typer(sweep_app, name="sweep")


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2."""
    try:
        app()
    except UserError as error:
        import sys

        print(f"mlmaster: {error}", file=sys.stderr)
        raise SystemExit(error.exit_code) from None
