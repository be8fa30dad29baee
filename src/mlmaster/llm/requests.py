"""The requests coders and reviewers receive and what they answer.

The ``llm`` part's boundary types. Every coder (an LLM endpoint, the offline coder, a replay)
takes a :class:`CodeRequest` and answers a :class:`CodeAnswer`; every reviewer takes a
:class:`ReviewRequest` and answers a :class:`Review`. The orchestrator builds requests from
the tree, the memory and the competition; nothing here knows about those parts' internals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from mlmaster.competition.spec import CompetitionSpec
from mlmaster.environment import Environment
from mlmaster.execution.result import ExecutionResult
from mlmaster.memory.insight import MemoryContext
from mlmaster.search.node import Node, Operator, Solution
from mlmaster.selection.inputs import HoldoutInfo

Role = Literal["coder", "feedback"]

# The line generated scripts are told to print; the review parses it first and directly.
METRIC_LINE_PREFIX = "VALIDATION_METRIC:"


class Hardware(BaseModel):
    """The execution slot a script will run on, as the prompt describes it."""

    cpus: int
    gpus: list[int] = []
    memory_limit: int | None = None  # bytes


class ParentSolution(Solution):
    """The node being improved or debugged, as a coder needs to see it: the node's facts
    with its full execution result (the tree keeps only a summary)."""

    node_id: str
    execution: ExecutionResult | None = None

    @classmethod
    def from_node(cls, node: Node, execution: ExecutionResult | None) -> ParentSolution:
        facts = node.model_dump(include=set(Solution.model_fields))
        return cls(node_id=node.id, execution=execution, **facts)


class CodeRequest(BaseModel):
    operator: Operator
    node_id: str  # the node being created (for recording exchanges)
    competition: CompetitionSpec
    description: str  # description.md of the competition
    public_dir: Path  # the competition's public files (what the script sees as ./input)
    data_preview: str = ""  # file tree and per-CSV summary, rendered for prompts
    parent: ParentSolution | None = None
    memory: MemoryContext
    time_left: float  # seconds left in the run
    exec_timeout: float  # seconds the script may run
    hardware: Hardware
    environment: Environment | None = None  # the facts found at run start, stated as they are
    seed: int = 0
    in_flight_siblings: int = 0  # other children of the same parent being written right now
    holdout: HoldoutInfo | None = None  # the rows the harness holds back, when it does


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0  # USD


class Exchange(BaseModel):
    """One call to a model, kept with its node (record and replay)."""

    role: Role
    node_id: str
    api_style: Literal["chat", "completions", "offline", "replay"]
    model: str | None
    request: dict[str, Any]  # messages or prompt, and parameters
    response_text: str
    reasoning: str | None = None
    usage: Usage = Field(default_factory=Usage)
    latency: float = 0.0
    attempts: int = 1
    started_at: float = 0.0  # unix time the call began (replay orders by it)
    # True when the endpoint that made the call counted it already; offline and replayed
    # exchanges are not counted by anyone until the run records them.
    accounted: bool = False


class CodeAnswer(BaseModel):
    text: str  # the whole answer text, as a model would give it
    reasoning: str | None = None
    plan: str = ""
    code: str | None = None  # None when no script could be found in the answer
    exchange: Exchange | None = None
    # Why no script came back when the endpoint refused this request (a content filter, a
    # prompt over the context length, a rejected parameter): the node's bug reason.
    refused: str | None = None


class ReviewRequest(BaseModel):
    node_id: str
    competition: CompetitionSpec
    description: str
    plan: str
    code: str
    execution: ExecutionResult
    metric_from_output: float | None  # parsed from the METRIC_LINE_PREFIX line, if any
    submission_valid: bool | None  # the validator's verdict; None when there is none
    submission_message: str = ""


class Review(BaseModel):
    buggy: bool
    summary: str
    metric: float | None = None
    bug_reason: str | None = None
    error: str | None = None  # set when the reviewer's answer could not be used
    exchange: Exchange | None = None


class Coder(Protocol):
    async def generate(self, request: CodeRequest) -> CodeAnswer: ...


class Reviewer(Protocol):
    async def review(self, request: ReviewRequest) -> Review: ...
