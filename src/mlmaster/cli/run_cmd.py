"""``mlmaster run``: solve one competition under a budget and leave its best submission."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer

from mlmaster import api
from mlmaster.cli.common import ProfileOption, fail, log_level_flag, resolve_settings
from mlmaster.errors import UserError
from mlmaster.settings import Settings


def run_command(
    ctx: typer.Context,
    competition: Annotated[
        str | None,
        typer.Argument(
            help="Competition id (a folder of the data dir). Also MLMASTER_RUN__COMPETITION.",
            show_default=False,
        ),
    ] = None,
    profile: ProfileOption = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Where prepared competitions live: <data-dir>/<id>/prepared/public."),
    ] = None,
    public_dir: Annotated[
        Path | None,
        typer.Option(
            help="Run on a bare public folder (MLE-bench's /home/data): no prepared layout; "
            "the metric comes from its description."
        ),
    ] = None,
    time_limit: Annotated[
        str | None, typer.Option(help="Total wall clock, e.g. 12h, 90m, 45s.")
    ] = None,
    exec_timeout: Annotated[str | None, typer.Option(help="Most time one script may run.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Most nodes to create.")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Most tree workers; the count adapts (default 8 x slots).")
    ] = None,
    slots: Annotated[int | None, typer.Option(help="Execution slots run at once.")] = None,
    cpus: Annotated[str | None, typer.Option(help="CPUs for scripts: all, 0-35, 0,2.")] = None,
    gpus: Annotated[str | None, typer.Option(help="GPUs: auto, none, 0,1.")] = None,
    policy: Annotated[str | None, typer.Option(help="ml-master, greedy or random.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the search's random choices.")] = None,
    runs_dir: Annotated[Path | None, typer.Option(help="Where run directories go.")] = None,
    output: Annotated[
        Path | None, typer.Option(help="Also copy the best submission.csv here.")
    ] = None,
    resume: Annotated[
        Path | None, typer.Option(help="Continue the run in this run directory.")
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check/--no-check",
            help="Probe each LLM endpoint before the run (one small request per role).",
        ),
    ] = True,
) -> None:
    """Search for the best solution of a competition and write its submission."""
    overrides: dict[str, Any] = {
        "run": {
            "competition": competition,
            "data_dir": data_dir,
            "public_dir": public_dir,
            "runs_dir": runs_dir,
            "output": output,
            "seed": seed,
        },
        "budget": {"time_limit": time_limit, "exec_timeout": exec_timeout, "max_steps": max_steps},
        "search": {"workers": workers, "policy": policy},
        "execution": {"slots": slots, "cpus": cpus, "gpus": gpus},
        "log": {"level": log_level_flag(ctx)},
    }
    try:
        saved = api.saved_settings(resume) if resume is not None else None
    except UserError as error:
        fail(str(error))
    settings = resolve_settings(
        profile,
        overrides,
        resumed=saved,
        resumed_from=str(api.settings_file(resume)) if resume else "resumed run",
    )
    try:
        if check:
            settings = _checked(settings)
        outcome = api.run(settings, resume=resume)
    except UserError as error:
        fail(str(error))
    print(f"mlmaster: {outcome.summary()}", file=sys.stderr)
    if outcome.output_error:
        print(f"mlmaster: {outcome.output_error}", file=sys.stderr)
    raise typer.Exit(outcome.exit_code)


def _checked(settings: Settings) -> Settings:
    """The start-up probe, before any run directory exists: a wrong URL, key or model ends
    here in one line; otherwise the settings adapted to what each endpoint supports."""
    from mlmaster.llm.probe import check_settings  # the SDK loads only when needed

    adapted, reports = anyio.run(check_settings, settings)
    for report in reports:
        if report.provider == "openai":
            print(f"mlmaster: {report.line()}", file=sys.stderr)
    return adapted
