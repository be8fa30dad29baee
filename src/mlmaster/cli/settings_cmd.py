"""``mlmaster settings``: show the resolved settings a run would use, secrets masked."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from mlmaster.cli.common import ProfileOption, resolve_settings


def settings_command(
    profile: ProfileOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of TOML-like text.")
    ] = False,
) -> None:
    """Print the resolved settings (defaults < profile < MLMASTER_* environment < flags)."""
    resolved = resolve_settings(profile)
    data = resolved.model_dump(mode="json")
    if as_json:
        typer.echo(json.dumps(data, indent=2, allow_nan=False))  # strict JSON: no NaN
        return
    for line in _as_text(data):
        typer.echo(line)


def _as_text(data: dict[str, Any], prefix: str = "") -> list[str]:
    """TOML-shaped lines: ``[group]`` headers and ``key = value``."""
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    groups = {k: v for k, v in data.items() if isinstance(v, dict)}
    lines: list[str] = []
    if prefix and scalars:
        lines.append(f"[{prefix}]")
    for key, value in scalars.items():
        shown = "(unset)" if value is None else json.dumps(value)
        lines.append(f"{key} = {shown}")
    if prefix and scalars:
        lines.append("")
    for key, value in groups.items():
        lines.extend(_as_text(value, f"{prefix}.{key}" if prefix else key))
    return lines
