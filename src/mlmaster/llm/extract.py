"""Reading a model's answer: the script, the plan before it, and the metric line.

A coder answers "a short plan, then one fenced Python block". Models stray from that: several
blocks (a snippet, then the full script), a block cut off by the token limit, or bare code with
no fence at all. ``ast.parse`` is the judge of which text is a complete script.
"""

from __future__ import annotations

import ast
import math
import re

from pydantic import BaseModel

from mlmaster.llm.requests import METRIC_LINE_PREFIX

# An opening fence with an optional language tag, the body, and a closing fence or the end of
# the text (an answer cut off by the token limit has no closing fence).
_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+.-]*)[^\n]*\n(.*?)(?:^[ \t]*```[ \t]*$|\Z)", re.M | re.S)
_CODE_LANGS = {"", "python", "py", "python3"}

# Statements that only code has: a sentence of prose may parse as an expression, never as these.
_CODE_NODES = (
    ast.Import,
    ast.ImportFrom,
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.For,
    ast.While,
    ast.With,
    ast.If,
    ast.Try,
)


class Block(BaseModel):
    start: int  # offset of the opening fence in the text
    lang: str
    code: str

    @property
    def complete(self) -> bool:
        return parses(self.code)


def parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def looks_like_code(text: str) -> bool:
    """Whole-text fallback: the text parses and does something only code does."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return any(
        isinstance(node, _CODE_NODES)
        or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call))
        for node in tree.body
    )


def fenced_blocks(text: str) -> list[Block]:
    return [
        Block(start=match.start(), lang=match.group(1).lower(), code=match.group(2))
        for match in _FENCE.finditer(text)
        if match.group(1).lower() in _CODE_LANGS
    ]


def extract_plan_and_code(text: str) -> tuple[str, str | None]:
    """The plan (text before the script) and the script; ``None`` when there is no script.

    Among several fenced blocks, the longest complete one is the script (a full solution is
    longer than the snippets around it). With no complete block, the longest block is still
    returned: running it reports the syntax error, which a debug step can then fix.
    """
    blocks = fenced_blocks(text)
    if blocks:
        complete = [block for block in blocks if block.complete and block.code.strip()]
        candidates = complete or [block for block in blocks if block.code.strip()]
        if candidates:
            # max() keeps the first of equals; reversed() makes the last one win a tie.
            chosen = max(reversed(candidates), key=lambda block: len(block.code))
            return text[: chosen.start].strip(), chosen.code.strip("\n") + "\n"
    if looks_like_code(text):
        return "", text.strip("\n") + "\n"
    return text.strip(), None


_NUMBER = re.compile(
    r"[-+]?(?:nan|inf(?:inity)?|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)", re.IGNORECASE
)


def parse_metric_line(output: str) -> float | None:
    """The value of the last ``VALIDATION_METRIC: <value>`` line; ``None`` when absent.

    The last line wins (a script may print a metric per fold, then the final one). A value that
    is not a finite number (nan, inf, text) counts as absent: it cannot be ranked.
    """
    value: float | None = None
    found = False
    for line in output.splitlines():
        stripped = line.strip()
        if not stripped.startswith(METRIC_LINE_PREFIX):
            continue
        found = True
        match = _NUMBER.search(stripped[len(METRIC_LINE_PREFIX) :])
        value = float(match.group(0)) if match else None
    if not found or value is None or not math.isfinite(value):
        return None
    return value
