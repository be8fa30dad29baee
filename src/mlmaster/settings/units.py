"""Parsers for the human spellings settings accept: durations, byte sizes and CPU lists.

Each parser takes what a user may write (in TOML, an environment variable or a flag) and
returns the canonical value, or raises ``ValueError`` with a message that says what is wrong
and what would be right. Pydantic turns those into per-key errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, PlainSerializer

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)")
_DURATION_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
# No budget runs a century; above this, deadline arithmetic (monotonic clock + duration) would
# only lose precision or overflow.
MAX_DURATION = 100 * 365 * 86400.0


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
    if not math.isfinite(seconds) or seconds > MAX_DURATION:
        raise ValueError(
            f"{value!r} is not a usable duration (at most 100 years): "
            "write 12h, 90m, 45s or seconds"
        )
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative (got {value!r})")
    return seconds


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?")
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
MAX_SIZE = 1024**6  # an exbibyte: far above any machine, far below a float's overflow
# Linux's largest CPU count (NR_CPUS is at most 8192); no machine has an id above this, and
# bounding ranges keeps "0-1000000" from becoming a list of a million ids.
MAX_ID = 8191


def parse_size(value: Any) -> int:
    """Bytes from ``512M``, ``8G``, ``8GiB``, ``1.5g`` or a plain number of bytes."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 512M, 8G or a number of bytes")
    if isinstance(value, int | float):
        amount = float(value)
    elif isinstance(value, str):
        match = _SIZE.fullmatch(value.strip().lower())
        if not match:
            raise ValueError(f"{value!r} is not a size: write 512M, 8G or a number of bytes")
        amount = float(match.group(1)) * _SIZE_UNITS[match.group(2)]
    else:
        raise ValueError("expected a size such as 512M, 8G or a number of bytes")
    if not math.isfinite(amount) or amount > MAX_SIZE:
        raise ValueError(f"{value!r} is not a usable size: write 512M, 8G or a number of bytes")
    # Every size setting caps something (memory, output kept, an upload): zero would cap it
    # to nothing, which is never what was meant.
    if int(amount) <= 0:
        raise ValueError(f"a size must be at least one byte (got {value!r})")
    return int(amount)


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
                ids.append(_bounded(int(chunk), what))
            elif m := re.fullmatch(r"(\d+)\s*-\s*(\d+)", chunk):
                lo, hi = int(m.group(1)), _bounded(int(m.group(2)), what)
                if hi < lo:
                    raise ValueError(f"range {chunk!r} in {what} list runs backwards")
                ids.extend(range(lo, hi + 1))
            else:
                raise ValueError(f"{value!r} is not a {what} list: write all, 0-35 or 0,2,4-7")
        return sorted(set(ids))
    if isinstance(value, list | tuple):
        if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in value):
            raise ValueError(f"a {what} list holds non-negative integers only")
        return sorted({_bounded(i, what) for i in value})
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return [_bounded(value, what)]
    raise ValueError(f"expected a {what} list such as all, 0-35 or 0,2,4-7")


def _bounded(number: int, what: str) -> int:
    if number > MAX_ID:
        raise ValueError(f"{what} id {number} does not exist on any machine (ids run 0-{MAX_ID})")
    return number


def format_ids(value: Sequence[int] | str) -> str:
    """Ids as a user writes them, ranges compressed: ``[0, 1, 2, 5]`` -> ``0-2,5``."""
    if isinstance(value, str):
        return value
    if not value:
        return "none"
    value = sorted(set(value))
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
    PlainSerializer(format_ids, return_type=str),
]
"""CPU ids; written as all, 0-35 or 0,2,4-7."""

GpuList = Annotated[
    list[int] | Literal["auto", "none"],
    BeforeValidator(lambda v: _no_keyword(parse_id_list(v, what="GPU"), allowed=("auto", "none"))),
    PlainSerializer(format_ids, return_type=str),
]
"""GPU ids; written as auto (detect), none, or 0,1."""


def _no_keyword(value: Any, *, allowed: tuple[str, ...]) -> Any:
    if isinstance(value, str) and value not in allowed:
        raise ValueError(f"{value!r} is not accepted here; use {' or '.join(allowed)} or ids")
    return value
