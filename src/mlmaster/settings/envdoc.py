"""The README's environment-variable table, rendered from the :class:`Settings` model.

Every setting is reachable as ``MLMASTER_<GROUP>__<KEY>`` (``MLMASTER_LLM__CODER__MODEL`` for
nested groups), so the model itself is the source of the table: each field's variable, type,
default (the code's) and description. The README holds the rendered table between two markers;
a test checks it is current, and this module rewrites it::

    python -m mlmaster.settings.envdoc README.md           # rewrite the table in place
    python -m mlmaster.settings.envdoc --check README.md   # exit 1 when it is stale
"""

from __future__ import annotations

import argparse
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, BeforeValidator, SecretStr
from pydantic.fields import FieldInfo

from mlmaster.settings.load import ENV_PREFIX
from mlmaster.settings.model import Settings
from mlmaster.settings.units import parse_duration, parse_size

START_MARKER = "<!-- env-table:start -->"
END_MARKER = "<!-- env-table:end -->"

# Variables that choose how settings load rather than being settings (see settings.load).
_LOADER_ROWS = [
    ("MLMASTER_PROFILE", "text", "unset", "profile name in the settings folder, or a TOML path"),
    (
        "MLMASTER_SETTINGS_DIR",
        "path",
        "unset",
        "folder holding the profiles; the checkout's settings/ when unset",
    ),
]
_CPU_LIST = list[int] | Literal["all"]
_GPU_LIST = list[int] | Literal["auto", "none"]


def render_env_table() -> str:
    """The markdown table of every ``MLMASTER_*`` variable, one row per setting."""
    lines = ["| Variable | Type | Default | Description |", "|---|---|---|---|"]
    rows = [*_LOADER_ROWS, *(_row(path, field, default) for path, field, default in _leaves())]
    for variable, kind, default, description in rows:
        cells = [f"`{variable}`", kind, f"`{default}`" if default else "", description]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def replace_table(readme: str, table: str) -> str:
    """``readme`` with the text between the markers replaced by ``table``."""
    start, end = readme.find(START_MARKER), readme.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"the README lacks the markers {START_MARKER} ... {END_MARKER}")
    head = readme[: start + len(START_MARKER)]
    return f"{head}\n{table}{readme[end:]}"


def _leaves(
    model: type[BaseModel] = Settings, prefix: tuple[str, ...] = (), defaults: Any = None
) -> Iterator[tuple[tuple[str, ...], FieldInfo, Any]]:
    """(key path, field, default) of every leaf setting, groups expanded in model order."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            # A group: its defaults are those of a fresh instance (plain models read no env).
            yield from _leaves(annotation, (*prefix, name), annotation())
            continue
        default = getattr(defaults, name) if defaults is not None else field.get_default()
        yield (*prefix, name), field, default


def _row(path: tuple[str, ...], field: FieldInfo, default: Any) -> tuple[str, str, str, str]:
    variable = ENV_PREFIX + "__".join(part.upper() for part in path)
    kind = _kind(field)
    return variable, kind, _default_text(default, kind), field.description or ""


def _kind(field: FieldInfo) -> str:
    """A reader's name for the field's type: what a user writes into the variable."""
    return _validator_kind(field.metadata) or _annotation_kind(field.annotation)


def _validator_kind(metadata: list[Any] | tuple[Any, ...]) -> str | None:
    """The unit types of ``settings.units`` are told apart by their parsers."""
    for meta in metadata:
        if isinstance(meta, BeforeValidator) and meta.func is parse_duration:
            return "duration (12h, 90m, 45s)"
        if isinstance(meta, BeforeValidator) and meta.func is parse_size:
            return "size (512M, 8G)"
    return None


def _annotation_kind(annotation: Any) -> str:
    if annotation == _CPU_LIST:
        return "CPU list (all, 0-35, 0,2,4-7)"
    if annotation == _GPU_LIST:
        return "GPU list (auto, none, 0,1)"
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _validator_kind(args[1:]) or _annotation_kind(args[0])
    if origin in (typing.Union, types.UnionType):
        kinds = [_annotation_kind(a) for a in args if a is not type(None)]
        return " or ".join(kinds)
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if origin is list:
        return "JSON list"
    simple = {
        str: "text",
        int: "integer",
        float: "number",
        bool: "boolean",
        Path: "path",
        SecretStr: "secret",
    }
    return simple.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default_text(value: Any, kind: str) -> str:
    if value is None:
        return "unset"
    if kind.startswith("duration"):
        return _duration_text(float(value))
    if kind.startswith("size"):
        return _size_text(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        if kind.startswith(("CPU", "GPU")):
            return ",".join(str(v) for v in value)
        return str([list(v) if isinstance(v, tuple) else v for v in value])
    return str(value)


def _duration_text(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _size_text(size: int) -> str:
    for unit, scale in (("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale}{unit}"
    return str(size)


def _cell(text: str) -> str:
    """Markdown-safe table cell: a pipe would end the cell, a ``<`` would open an HTML tag."""
    return text.replace("|", "\\|").replace("<", "\\<").replace("\n", " ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlmaster.settings.envdoc",
        description="Render the MLMASTER_* environment-variable table into the README.",
    )
    parser.add_argument("readme", type=Path, nargs="?", default=Path("README.md"))
    parser.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    args = parser.parse_args(argv)
    try:
        current = args.readme.read_text(encoding="utf-8")
        updated = replace_table(current, render_env_table())
    except (OSError, ValueError) as error:
        print(f"envdoc: {error}", file=sys.stderr)
        return 2
    if args.check:
        if updated != current:
            print(
                f"envdoc: the table in {args.readme} is stale; run {parser.prog}", file=sys.stderr
            )
            return 1
        return 0
    if updated != current:
        args.readme.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
