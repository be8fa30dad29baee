"""The fault policy's verdicts, per status and message, and the fix each fatal one names."""

import pytest

from mlmaster.llm.faults import Fault, classify_status, context_limit, fix_for


@pytest.mark.parametrize(
    ("status", "message", "code", "kind"),
    [
        (500, "internal error", None, "transient"),
        (503, "overloaded", None, "transient"),
        (408, "timeout", None, "transient"),
        (429, "Rate limit reached", "rate_limit_exceeded", "throttle"),
        (429, "You exceeded your current quota", "insufficient_quota", "fatal"),
        (401, "Incorrect API key provided", "invalid_api_key", "fatal"),
        (402, "Insufficient Balance", None, "fatal"),
        (403, "not allowed", None, "fatal"),
        (404, "The model `x` does not exist", "model_not_found", "fatal"),
        (404, "Not Found", None, "fatal"),
        (400, "Invalid model name passed in model=gpt-9", None, "fatal"),
        (400, "This model's maximum context length is 8192 tokens", None, "context"),
        (400, "The input (9000 tokens) is longer than the model's context length", None, "context"),
        (413, "payload too large", None, "context"),
        (400, "The response was filtered", "content_filter", "request"),
        (400, "Unsupported parameter: 'max_tokens'", "unsupported_parameter", "request"),
        (422, "tools are not supported", None, "request"),
    ],
)
def test_each_status_gets_its_kind(status: int, message: str, code: str | None, kind: str) -> None:
    assert classify_status(status, message, code) == kind


@pytest.mark.parametrize(
    ("message", "limit"),
    [
        ("This model's maximum context length is 32768 tokens. However, you requested", 32768),
        (
            "The input (40000 tokens) is longer than the model's context length (32768 tokens).",
            32768,
        ),
        ("prompt is too long", None),
    ],
)
def test_the_limit_a_context_error_names(message: str, limit: int | None) -> None:
    assert context_limit(message) == limit


@pytest.mark.parametrize(
    ("fault", "variable"),
    [
        (Fault(kind="fatal", reason="HTTP 401: bad key", status=401), "API_KEY"),
        (Fault(kind="fatal", reason="HTTP 404: model x does not exist", status=404), "MODEL"),
        (Fault(kind="fatal", reason="HTTP 404: Not Found", status=404), "BASE_URL"),
        (
            Fault(kind="fatal", reason="HTTP 404: gone", status=404, code="DeploymentNotFound"),
            "MODEL",
        ),
    ],
)
def test_a_fatal_fault_names_the_variable_to_fix(fault: Fault, variable: str) -> None:
    assert f"MLMASTER_LLM__CODER__{variable}" in fix_for(fault, "coder")
