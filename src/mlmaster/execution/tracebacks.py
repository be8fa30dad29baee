"""Read the last Python traceback out of a script's stderr.

The failing line reported is the deepest frame in the script itself when there is one (that is
the line the coder can fix), otherwise the deepest frame shown.
"""

from __future__ import annotations

import re

from mlmaster.execution.result import ScriptException

_HEADER = "Traceback (most recent call last):"
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')
_FINAL = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$")


def parse_traceback(text: str, script_name: str | None = None) -> ScriptException | None:
    """The last traceback in ``text``, or None when there is none.

    ``script_name`` (a file name such as ``solution.py``) picks the frame to report.
    """
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == _HEADER]
    start = starts[-1] + 1 if starts else _syntax_error_start(lines)
    if start is None:
        return None
    frames: list[tuple[str, int, str | None]] = []
    i = start
    while i < len(lines):
        line = lines[i]
        frame = _FRAME.match(line)
        if frame:
            code = None
            if i + 1 < len(lines) and lines[i + 1].startswith("    "):
                code = lines[i + 1].strip()
            frames.append((frame["file"], int(frame["line"]), code))
            i += 1
            continue
        if line.startswith((" ", "\t")) or not line.strip():
            i += 1  # source lines, carets, notes
            continue
        final = _FINAL.match(line)
        if final is None:
            return None
        message = (final["message"] or "").strip()
        file, lineno, code = _pick_frame(frames, script_name)
        return ScriptException(
            type=final["type"], message=message, file=file, line=lineno, code_line=code
        )
    return None


def _syntax_error_start(lines: list[str]) -> int | None:
    """A SyntaxError at compile time prints a frame with no header; find its frame line."""
    for i in range(len(lines) - 1, -1, -1):
        if re.match(r"^(SyntaxError|IndentationError|TabError)\b", lines[i]):
            for j in range(i - 1, -1, -1):
                if _FRAME.match(lines[j]):
                    return j
            return i
    return None


def _pick_frame(
    frames: list[tuple[str, int, str | None]], script_name: str | None
) -> tuple[str | None, int | None, str | None]:
    if not frames:
        return None, None, None
    if script_name:
        mine = [f for f in frames if f[0].endswith(script_name)]
        if mine:
            return mine[-1]
    return frames[-1]
