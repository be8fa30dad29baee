"""Parsers for the human spellings settings accept: durations, byte sizes and CPU lists.

Each parser takes what a user may write (in TOML, an environment variable or a flag) and
returns the canonical value, or raises ``ValueError`` with a message that says what is wrong
and what would be right. Pydantic turns those into per-key errors.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, PlainSerializer

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)")
_DURATION_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(value: Any) -> float:
    """Seconds from ``12h``, ``90m``, ``45s``, ``1h30m``, ``250ms`` or plain seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 12h, 90m, 45s or a number of seconds")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            parts = _DURATION_PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise ValueError(
                    f"{value!r} is not a duration: write 12h, 90m, 45s, 1h30m or seconds"
                ) from None
            seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in parts)
    else:
        raise ValueError("expected a duration such as 12h, 90m, 45s or a number of seconds")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative (got {value!r})")
    return seconds


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?")
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(value: Any) -> int:
    """Bytes from ``512M``, ``8G``, ``8GiB``, ``1.5g`` or a plain number of bytes."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 512M, 8G or a number of bytes")
    if isinstance(value, int | float):
        size = int(value)
    elif isinstance(value, str):
        match = _SIZE.fullmatch(value.strip().lower())
        if not match:
            raise ValueError(f"{value!r} is not a size: write 512M, 8G or a number of bytes")
        size = int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])
    else:
        raise ValueError("expected a size such as 512M, 8G or a number of bytes")
    if size < 0:
        raise ValueError(f"a size cannot be negative (got {value!r})")
    return size


def parse_id_list(value: Any, *, what: str) -> list[int] | Literal["all", "none", "auto"]:
    """A list of non-negative ids from ``0-35``, ``0,2,4-7``, a TOML list, or a keyword."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("all", "none", "auto"):
            return text  # type: ignore[return-value]
        if text == "":
            return "none"
        ids: list[int] = []
        for chunk in text.split(","):
            chunk = chunk.strip()
            if re.fullmatch(r"\d+", chunk):
                ids.append(int(chunk))
            elif m := re.fullmatch(r"(\d+)\s*-\s*(\d+)", chunk):
                lo, hi = int(m.group(1)), int(m.group(2))
                if hi < lo:
                    raise ValueError(f"range {chunk!r} in {what} list runs backwards")
                ids.extend(range(lo, hi + 1))
            else:
                raise ValueError(f"{value!r} is not a {what} list: write all, 0-35 or 0,2,4-7")
        return sorted(set(ids))
    if isinstance(value, list | tuple):
        if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in value):
            raise ValueError(f"a {what} list holds non-negative integers only")
        return sorted(set(value))
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return [value]
    raise ValueError(f"expected a {what} list such as all, 0-35 or 0,2,4-7")


def _format_ids(value: list[int] | str) -> str:
    if isinstance(value, str):
        return value
    if not value:
        return "none"
    runs: list[str] = []
    start = prev = value[0]
    for i in [*value[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return ",".join(runs)


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds; written as 12h, 90m, 45s or plain seconds."""

ByteSize = Annotated[int, BeforeValidator(parse_size)]
"""Bytes; written as 512M, 8G or plain bytes."""

CpuList = Annotated[
    list[int] | Literal["all"],
    BeforeValidator(lambda v: _no_keyword(parse_id_list(v, what="CPU"), allowed=("all",))),
    PlainSerializer(_format_ids, return_type=str),
]
"""CPU ids; written as all, 0-35 or 0,2,4-7."""

GpuList = Annotated[
    list[int] | Literal["auto", "none"],
    BeforeValidator(lambda v: _no_keyword(parse_id_list(v, what="GPU"), allowed=("auto", "none"))),
    PlainSerializer(_format_ids, return_type=str),
]
"""GPU ids; written as auto (detect), none, or 0,1."""


def _no_keyword(value: Any, *, allowed: tuple[str, ...]) -> Any:
    if isinstance(value, str) and value not in allowed:
        raise ValueError(f"{value!r} is not accepted here; use {' or '.join(allowed)} or ids")
    return value
