"""A scripted OpenAI-compatible server on loopback, and endpoints that talk to it."""

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from mlmaster.competition.spec import CompetitionSpec
from mlmaster.execution.result import CapturedOutput, ExecutionResult
from mlmaster.llm.accounting import Accountant
from mlmaster.llm.client import Endpoint
from mlmaster.llm.extract import parse_metric_line
from mlmaster.llm.requests import CodeRequest, Hardware, ReviewRequest, Role
from mlmaster.memory.insight import MemoryContext
from mlmaster.search.node import Operator
from mlmaster.settings.model import EndpointSettings
from mlmaster.testing.scripted_server import ScriptedServer

SPEC = CompetitionSpec(
    id="demo",
    name="Demo",
    metric="roc_auc",
    lower_is_better=False,
    id_column="id",
    target_columns=["target"],
    task_type="binary",
)

SCRIPT = "import pandas as pd\ntrain = pd.read_csv('./input/train.csv')\nprint(len(train))\n"


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    async with ScriptedServer() as running:
        yield running


EndpointFactory = Callable[..., Endpoint]


@pytest.fixture
def endpoint(server: ScriptedServer) -> EndpointFactory:
    """``endpoint(role="coder", accountant=None, **settings)`` aimed at the scripted server.

    Backoff is tiny so that retries cost milliseconds; the retry logic itself is unchanged.
    """

    def make(role: Role = "coder", accountant: Accountant | None = None, **fields: Any) -> Endpoint:
        settings = EndpointSettings.model_validate(
            {
                "provider": "openai",
                "base_url": server.base_url,
                "api_key": "test-key",
                "model": "test-model",
                "request_timeout": 5.0,
                "retries": 3,
                **fields,
            }
        )
        return Endpoint(settings, role, accountant=accountant, backoff_base=0.001, backoff_max=0.5)

    return make


def _code_request(operator: Operator = "draft", node_id: str = "n1") -> CodeRequest:
    return CodeRequest(
        operator=operator,
        node_id=node_id,
        competition=SPEC,
        description="Predict the target.",
        public_dir=Path("/nonexistent/public"),
        data_preview="PREVIEW-TEXT",
        memory=MemoryContext(operator=operator, text="MEMORY-TEXT"),
        time_left=3600,
        exec_timeout=600,
        hardware=Hardware(cpus=2),
    )


def _review_request(
    *,
    stdout: str = "training...\nVALIDATION_METRIC: 0.75\n",
    exit_code: int | None = 0,
    submission_valid: bool | None = True,
    node_id: str = "n1",
    **changes: Any,
) -> ReviewRequest:
    fields: dict[str, Any] = {
        "node_id": node_id,
        "competition": SPEC,
        "description": "Predict the target.",
        "plan": "Logistic regression.",
        "code": SCRIPT,
        "execution": ExecutionResult(
            exit_code=exit_code, runtime=2.0, stdout=CapturedOutput(head=stdout)
        ),
        "metric_from_output": parse_metric_line(stdout),
        "submission_valid": submission_valid,
    }
    fields.update(changes)
    return ReviewRequest.model_validate(fields)


@pytest.fixture
def code_request() -> Callable[..., CodeRequest]:
    """``code_request(operator="draft", node_id="n1")``."""
    return _code_request


@pytest.fixture
def review_request() -> Callable[..., ReviewRequest]:
    """``review_request(stdout=..., exit_code=0, submission_valid=True, **fields)``."""
    return _review_request
