"""``mlmaster suite``: build the bundled offline competitions, or regenerate their leaderboards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from mlmaster.cli.common import ProfileOption, fail, resolve_settings
from mlmaster.errors import UserError

suite_app = typer.Typer(
    help="The bundled offline suite: nine small competitions from data in installed packages.",
    no_args_is_help=True,
)

OnlyOption = Annotated[
    list[str] | None,
    typer.Option("--only", help="Build only this competition id (repeatable).", show_default=False),
]


@suite_app.command("build")
def build_command(
    dest: Annotated[
        Path | None,
        typer.Option("--dest", help="Where to write the competitions (default: run.data_dir)."),
    ] = None,
    only: OnlyOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild competitions that already exist.")
    ] = False,
    profile: ProfileOption = None,
) -> None:
    """Write the suite in MLE-bench's prepared layout: <dest>/<id>/prepared/{public,private}."""
    from mlmaster.competition.suite import build_suite

    target = dest if dest is not None else resolve_settings(profile).run.data_dir
    try:
        report = build_suite(target, only=only, force=force)
    except UserError as error:
        fail(str(error))
    except OSError as error:
        fail(f"could not write the suite under {target}: {error}")
    for cid in report.built:
        typer.echo(f"built    {cid}  ->  {target / cid}")
    for cid in report.already_present:
        typer.echo(f"present  {cid}  (already built; --force rebuilds it)")
    for cid, why in report.skipped.items():
        typer.echo(f"skipped  {cid}: {why}", err=True)


@suite_app.command("leaderboards")
def leaderboards_command(only: OnlyOption = None) -> None:
    """Rerun the reference solutions and rewrite the frozen leaderboards (minutes; developers).

    Same as: python -m mlmaster.competition.suite.references [ID ...]
    """
    command = [sys.executable, "-m", "mlmaster.competition.suite.references", *(only or [])]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, env=env, check=False)
    if result.returncode != 0:
        fail(f"the reference run failed (exit {result.returncode})", code=result.returncode)
