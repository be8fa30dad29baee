"""What every command shares: resolving settings from flags, and reporting user errors."""

from __future__ import annotations

import sys
from typing import Annotated, Any, NoReturn

import typer

from mlmaster.settings import Settings, SettingsLoadError, load_settings

ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        "-p",
        help="Settings profile: a name in settings/ (default, mlebench, mlebench-api, ci) or a "
        "TOML file. Also MLMASTER_PROFILE.",
        show_default=False,
    ),
]


def fail(*lines: str, code: int = 2) -> NoReturn:
    """End the command with readable lines on stderr and an exit code; never a traceback."""
    for line in lines:
        print(f"mlmaster: {line}", file=sys.stderr)
    raise typer.Exit(code)


def resolve_settings(
    profile: str | None,
    overrides: dict[str, Any] | None = None,
    *,
    resumed: dict[str, Any] | None = None,
    resumed_from: str = "resumed run",
) -> Settings:
    """Settings from every source with the command's flags on top, or exit 2 explaining why."""
    try:
        return load_settings(
            profile=profile, overrides=overrides or {}, resumed=resumed, resumed_from=resumed_from
        )
    except SettingsLoadError as error:
        fail(*error.problems)


def log_level_flag(ctx: typer.Context) -> str | None:
    """``--log-level`` as given before the command, or ``None`` when it was not given."""
    root = ctx.find_root()
    return (root.obj or {}).get("log_level")
