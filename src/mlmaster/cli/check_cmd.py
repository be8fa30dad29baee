"""``mlmaster check``: probe each LLM role's endpoint as a run would, and say what works."""

from __future__ import annotations

import anyio
import typer

from mlmaster.cli.common import ProfileOption, fail, resolve_settings
from mlmaster.errors import UserError


def check_command(profile: ProfileOption = None) -> None:
    """Send each LLM role one small request; exit 2 naming the role and the fix if one fails."""
    settings = resolve_settings(profile)
    from mlmaster.llm.probe import check_settings  # the SDK loads only when needed

    try:
        _, reports = anyio.run(check_settings, settings)
    except UserError as error:
        fail(str(error))
    for report in reports:
        typer.echo(report.line())
