"""What the memory holds and hands out: the ``memory`` part's boundary types."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from mlmaster.search.node import Operator

EntryRole = Literal["sibling", "parent", "ancestor", "best", "error"]


class Insight(BaseModel):
    """A short lesson from one finished node."""

    node_id: str
    parent_id: str | None
    operator: Operator
    design: str  # the plan, summarised
    result: str  # "metric 0.8123" or the bug's cause
    suggestion: str = ""  # what it suggests doing next
    metric: float | None = None
    buggy: bool = False
    step: int = 0  # commit order, for a deterministic order of context entries


class ContextEntry(BaseModel):
    """One piece of a node's context, labelled with why it is there."""

    role: EntryRole
    insight: Insight
    code: str | None = None  # included for the parent of an improve or debug


class MemoryContext(BaseModel):
    """What the memory says matters for expanding a node with an operator."""

    operator: Operator
    entries: list[ContextEntry] = []
    text: str = ""  # rendered within the size budget, ready for a prompt
