"""Requests of every kind, built from small pieces, for the LLM layer's unit tests."""

from collections.abc import Callable
from pathlib import Path

import pytest

from mlmaster.competition.spec import CompetitionSpec
from mlmaster.execution.result import CapturedOutput, ExecutionResult
from mlmaster.llm.requests import CodeRequest, Hardware, ParentSolution
from mlmaster.memory.insight import MemoryContext
from mlmaster.search.node import Operator

SPEC = CompetitionSpec(
    id="demo",
    name="Demo",
    metric="rmse",
    lower_is_better=True,
    id_column="id",
    target_columns=["y"],
    task_type="regression",
)


def make_request(operator: Operator, public: Path, **changes: object) -> CodeRequest:
    parent = None
    if operator != "draft":
        parent = ParentSolution(
            node_id="p1",
            plan="Fit a ridge model.",
            code="print('parent code')\n",
            metric=0.42 if operator == "improve" else None,
            buggy=operator == "debug",
            bug_reason="KeyError: 'city'" if operator == "debug" else None,
            execution=ExecutionResult(
                exit_code=0 if operator == "improve" else 1,
                runtime=3.0,
                stdout=CapturedOutput(head="PARENT OUTPUT LINE\n"),
            ),
        )
    fields: dict[str, object] = {
        "operator": operator,
        "node_id": "n1",
        "competition": SPEC,
        "description": "Predict y from x.",
        "public_dir": public,
        "data_preview": "PREVIEW: train.csv 3 rows",
        "parent": parent,
        "memory": MemoryContext(operator=operator, text="MEMORY: ridge scored 0.5"),
        "time_left": 3 * 3600 + 5 * 60,
        "exec_timeout": 600,
        "hardware": Hardware(cpus=4, gpus=[0]),
    }
    fields.update(changes)
    return CodeRequest.model_validate(fields)


RequestFactory = Callable[..., CodeRequest]


@pytest.fixture
def code_request(public_dir: Path) -> RequestFactory:
    """``code_request(operator, **changes)``: a request over the ``public_dir`` fixture."""
    return lambda operator, **changes: make_request(operator, public_dir, **changes)
