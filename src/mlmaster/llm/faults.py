"""What a failed LLM request means for the run: the fault policy, as pure functions.

Every transport turns what went wrong into a :class:`Fault` of one kind:

- ``transient``: 5xx, 408/409, a timeout, a cut connection, an unreadable answer: retried.
- ``throttle``: 429: retried after ``Retry-After``, and the endpoint's limiter shrinks.
- ``context``: the prompt is over the model's context length: the caller shrinks it once.
- ``request``: this request was refused (a content filter, a parameter the model rejects,
  tools it does not take): the step fails with the reason on its node; the run goes on.
- ``fatal``: authentication, permission, unknown model or URL, exhausted credit: every call
  would fail alike, so the run ends, saying how to fix it.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

FaultKind = Literal["transient", "throttle", "context", "request", "fatal"]

_CONTEXT = re.compile(
    r"context[ _]length|context window|maximum context|prompt is too long|too many tokens"
    r"|longer than the model|exceeds? the model|input is too long|reduce the length",
    re.I,
)
_CONTEXT_LIMIT = re.compile(
    r"(?:maximum context length is|context length (?:is|of)|context window of"
    r"|model's context length \(|max_model_len[= ])\s*\(?(\d{3,})",
    re.I,
)
_UNKNOWN_MODEL = re.compile(
    r"model[^.]{0,80}(?:not found|does not exist|not exist|unknown|invalid|not available)"
    r"|(?:unknown|invalid|no such) model|deploymentnotfound"
    r"|deployment[^.]{0,40}(?:not found|does not exist)",
    re.I,
)
_NO_CREDIT = re.compile(r"insufficient[_ ](?:quota|balance)|billing|credit", re.I)


class Fault(BaseModel):
    kind: FaultKind
    reason: str  # one line: what the server said or what happened
    status: int | None = None
    code: str | None = None  # the server's error code (model_not_found, content_filter ...)
    retry_after: float | None = None  # seconds the server asked us to wait (429)
    context_limit: int | None = None  # tokens, when a context-length error names it

    @property
    def retryable(self) -> bool:
        return self.kind in ("transient", "throttle")


def classify_status(status: int, message: str, code: str | None = None) -> FaultKind:
    """The kind of fault an HTTP error status with this message and error code is."""
    text = f"{code or ''} {message}"
    if status == 429:
        # OpenAI answers 429 also when the account has no credit left: no wait helps.
        return "fatal" if _NO_CREDIT.search(text) else "throttle"
    if status >= 500 or status in (408, 409):
        return "transient"
    if status in (401, 402, 403):
        return "fatal"
    if _CONTEXT.search(text) or status == 413:
        return "context"
    if status == 404 or _UNKNOWN_MODEL.search(text):
        return "fatal"
    return "request"


def context_limit(message: str) -> int | None:
    """The context length a context-length error names (vLLM, SGLang, OpenAI say it)."""
    match = _CONTEXT_LIMIT.search(message)
    return int(match.group(1)) if match else None


def fix_for(fault: Fault, role: str) -> str:
    """What a user does about a fatal fault, in a few words."""
    variable = f"MLMASTER_LLM__{role.upper()}__"
    if fault.status == 401:
        return f"check the API key ({variable}API_KEY)"
    if fault.status == 402 or (fault.status == 429 and fault.kind == "fatal"):
        return "the account has no credit left; add some or use another key"
    if fault.status == 403:
        return f"the key may not use this model; check {variable}MODEL and the key's access"
    if _UNKNOWN_MODEL.search(f"{fault.code or ''} {fault.reason}"):
        return f"check the model name ({variable}MODEL; Azure: the deployment name)"
    if fault.status == 404:
        return (
            f"check the URL ({variable}BASE_URL, usually ending in /v1) and the model name "
            f"({variable}MODEL)"
        )
    return f"check llm.{role} (base_url, api_key, model)"
