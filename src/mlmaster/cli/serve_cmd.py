"""``mlmaster serve``: the validation server for one competition, as MLE-bench runs it."""

from __future__ import annotations

from typing import Annotated

import typer

from mlmaster.cli.common import ProfileOption, fail, resolve_settings
from mlmaster.cli.grade_cmd import DataDirOption
from mlmaster.errors import UserError


def serve_command(
    competition: Annotated[
        str | None,
        typer.Argument(
            envvar="COMPETITION_ID",
            help="Competition id; also read from COMPETITION_ID, as in MLE-bench's container.",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDirOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on.", min=0, max=65535)
    ] = 5000,
    profile: ProfileOption = None,
) -> None:
    """Serve POST /validate and GET /health for COMPETITION until interrupted.

    Answers say whether a submission is valid and why not; they never reveal a score.
    """
    if not competition:
        fail("no competition given: pass it as an argument or set COMPETITION_ID")
    # Imported here so that other commands start without loading the web and data stacks.
    from mlmaster.competition.layout import load_competition
    from mlmaster.competition.server import serve_forever

    settings = resolve_settings(profile)
    try:
        loaded = load_competition(data_dir or settings.run.data_dir, competition)
    except UserError as error:
        fail(str(error))
    typer.echo(f"validating {loaded.spec.id} on http://{host}:{port}/validate", err=True)
    try:
        serve_forever(loaded, host=host, port=port, upload_limit=int(settings.grader.upload_limit))
    except UserError as error:  # a busy port, a broken answers file
        fail(str(error))
