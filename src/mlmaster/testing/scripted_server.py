"""A scripted OpenAI-compatible HTTP server on loopback, for tests and the benchmark.

It answers ``POST /v1/chat/completions`` and ``POST /v1/completions`` from a script: a queue of
:class:`Reply` objects, or a callable that builds one from the request. A reply can carry a
text, a ``reasoning_content`` field, a tool call and usage, or a fault: an HTTP status (429 with
``Retry-After``, 500, ...), a delay past the client's timeout, or a body that is not JSON.
Every request received is kept in :attr:`ScriptedServer.requests`. A provider ``mode`` (see
:mod:`mlmaster.testing.providers`) makes it answer as one provider does, quirks included;
requests a mode refuses are answered without taking a scripted reply.

    async with ScriptedServer([Reply(text="hi")]) as server:
        client = AsyncOpenAI(base_url=server.base_url, api_key="x")
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any

import uvicorn
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from mlmaster.testing.providers import MODES, ProviderMode, context_message


class ToolCall(BaseModel):
    name: str
    arguments: str  # JSON text, as the API sends it


class Reply(BaseModel):
    """One scripted answer, or one fault."""

    text: str | None = ""
    reasoning_content: str | None = None
    reasoning_field: str = "reasoning_content"  # vLLM newer versions say "reasoning"
    tool_call: ToolCall | None = None
    prompt_tokens: int | None = None  # None: counted as words of the request
    completion_tokens: int | None = None  # None: counted as words of the reply
    finish_reason: str = "stop"
    # faults
    status: int = 200
    retry_after: float | None = None
    error_message: str = "scripted error"
    error_code: str | None = None  # e.g. content_filter, context_length_exceeded
    delay: float = 0.0  # seconds before answering (past the client's timeout: a timeout)
    malformed: bool = False  # answer 200 with a body that is not JSON
    omit_usage: bool = False
    cut_stream: bool = False  # when streaming: drop the connection halfway through
    stream_delay: float = 0.0  # seconds between streamed chunks (a slow stream)
    endless_stream: bool = False  # when streaming: chunks keep coming, the stream never ends


class ReceivedRequest(BaseModel):
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    query: dict[str, str] = {}
    received_at: float


Script = Callable[[ReceivedRequest], Reply | Awaitable[Reply]]


STREAM_PIECE = 16  # characters per streamed delta: small, so that tests see many chunks


def _pieces(text: str) -> list[str]:
    return [text[i : i + STREAM_PIECE] for i in range(0, len(text), STREAM_PIECE)]


def _words(value: Any) -> int:
    return len(json.dumps(value).split()) if not isinstance(value, str) else len(value.split())


class ScriptedServer:
    """Serves scripted replies on 127.0.0.1 at a free port, inside the running event loop."""

    def __init__(
        self,
        script: Iterable[Reply] | Script | None = None,
        *,
        default: Reply | None = None,
        latency: float = 0.0,
        model: str = "scripted-model",
        mode: ProviderMode | str | None = None,
    ) -> None:
        self._queue: deque[Reply] = deque()
        self._callable: Script | None = None
        if callable(script):
            self._callable = script
        elif script is not None:
            self._queue.extend(script)
        self.default = default
        self.latency = latency  # added to every answer: the benchmark's controlled LLM
        self.model = model
        self.mode = MODES[mode] if isinstance(mode, str) else mode
        self.requests: list[ReceivedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0  # most requests being answered at once (limiter checks)
        self._ids = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible root (Azure mode: the resource endpoint, without /v1)."""
        if self.mode is not None and self.mode.azure:
            return f"http://127.0.0.1:{self.port}"
        return f"http://127.0.0.1:{self.port}/v1"

    def push(self, *replies: Reply) -> None:
        self._queue.extend(replies)

    @property
    def pending(self) -> int:
        return len(self._queue)

    # -- serving ------------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/completions", self._completions, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route(
                    "/openai/deployments/{deployment}/chat/completions",
                    self._chat,
                    methods=["POST"],
                ),
                Route(
                    "/openai/deployments/{deployment}/completions",
                    self._completions,
                    methods=["POST"],
                ),
                Route("/openai/models", self._models, methods=["GET"]),
            ]
        )

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app(), log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=3)
        except TimeoutError:
            self._task.cancel()
        self._server = None

    async def __aenter__(self) -> ScriptedServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- answering ----------------------------------------------------------------------------

    async def _next_reply(self, received: ReceivedRequest) -> Reply | None:
        if self._callable is not None:
            reply = self._callable(received)
            return await reply if isinstance(reply, Awaitable) else reply
        if self._queue:
            return self._queue.popleft()
        return self.default

    async def _receive(self, request: Request) -> tuple[ReceivedRequest, Reply | None]:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: Request) -> tuple[ReceivedRequest, Reply | None]:
        body = await request.json()
        received = ReceivedRequest(
            path=request.url.path,
            body=body,
            headers=dict(request.headers),
            query=dict(request.query_params),
            received_at=time.time(),
        )
        self.requests.append(received)
        refusal = self._refusal(request, received)
        if refusal is not None:
            return received, refusal
        reply = await self._next_reply(received)
        if reply is not None and (reply.delay or self.latency):
            await asyncio.sleep(reply.delay + self.latency)
        return received, reply

    @staticmethod
    def _fault(reply: Reply | None) -> Response | None:
        if reply is None:
            # Not retryable on purpose: an exhausted script is a test's mistake, not a blip.
            return JSONResponse(
                {"error": {"message": "scripted server: no reply queued", "type": "invalid"}},
                status_code=400,
            )
        if reply.status != 200:
            headers = {}
            if reply.retry_after is not None:
                headers["Retry-After"] = f"{reply.retry_after:g}"
            return JSONResponse(
                {
                    "error": {
                        "message": reply.error_message,
                        "type": "scripted",
                        "code": reply.error_code,
                    }
                },
                status_code=reply.status,
                headers=headers,
            )
        if reply.malformed:
            return Response('{"id": "cmpl-1", "choices": [', media_type="application/json")
        return None

    def _usage(self, received: ReceivedRequest, reply: Reply) -> dict[str, int]:
        prompt = received.body.get("messages", received.body.get("prompt", ""))
        answer = (reply.text or "") + (reply.reasoning_content or "")
        if reply.tool_call is not None:
            answer += reply.tool_call.arguments
        prompt_tokens = reply.prompt_tokens if reply.prompt_tokens is not None else _words(prompt)
        completion_tokens = (
            reply.completion_tokens if reply.completion_tokens is not None else _words(answer)
        )
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }

    def _envelope(self, received: ReceivedRequest, reply: Reply, kind: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": f"scripted-{next(self._ids)}",
            "object": kind,
            "created": int(time.time()),
            "model": received.body.get("model") or self.model,
        }
        if not reply.omit_usage:
            body["usage"] = self._usage(received, reply)
        return body

    async def _chat(self, request: Request) -> Response:
        received, reply = await self._receive(request)
        fault = self._fault(reply)
        if fault is not None or reply is None:
            return fault or Response(status_code=500)
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.reasoning_content is not None:
            field = self.mode.reasoning_field if self.mode else None
            message[field or reply.reasoning_field] = reply.reasoning_content
        finish_reason = reply.finish_reason
        if reply.tool_call is not None:
            message["tool_calls"] = [
                {
                    "id": f"call-{next(self._ids)}",
                    "type": "function",
                    "function": {
                        "name": reply.tool_call.name,
                        "arguments": reply.tool_call.arguments,
                    },
                }
            ]
            finish_reason = "tool_calls"
        body = self._envelope(received, reply, "chat.completion")
        if received.body.get("stream"):
            return self._stream(received, reply, body, self._chat_deltas(message, finish_reason))
        body["choices"] = [{"index": 0, "message": message, "finish_reason": finish_reason}]
        return JSONResponse(body)

    @staticmethod
    def _chat_deltas(message: dict[str, Any], finish_reason: str) -> list[dict[str, Any]]:
        """The choices of each streamed chunk that together make ``message``."""
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        for field in ("reasoning_content", "reasoning"):
            deltas += [{field: piece} for piece in _pieces(message.get(field) or "")]
        deltas += [{"content": piece} for piece in _pieces(message.get("content") or "")]
        for call in message.get("tool_calls", []):
            function = call["function"]
            deltas.append(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": function["name"], "arguments": ""},
                        }
                    ]
                }
            )
            deltas += [
                {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
                for piece in _pieces(function["arguments"])
            ]
        choices: list[dict[str, Any]] = [
            {"index": 0, "delta": delta, "finish_reason": None} for delta in deltas
        ]
        choices.append({"index": 0, "delta": {}, "finish_reason": finish_reason})
        return choices

    def _stream(
        self,
        received: ReceivedRequest,
        reply: Reply,
        envelope: dict[str, Any],
        choices: list[dict[str, Any]],
    ) -> Response:
        """Server-sent events, as the API streams: one chunk per choice, usage, then [DONE]."""
        usage = envelope.pop("usage", None)
        kind = envelope["object"]
        envelope["object"] = "chat.completion.chunk" if kind == "chat.completion" else kind
        want_usage = (received.body.get("stream_options") or {}).get("include_usage")

        async def events() -> AsyncIterator[str]:
            for number, choice in enumerate(choices):
                if reply.cut_stream and number == len(choices) // 2:
                    raise ConnectionResetError("scripted: stream cut")
                yield f"data: {json.dumps({**envelope, 'choices': [choice]})}\n\n"
                await asyncio.sleep(reply.stream_delay)
            while reply.endless_stream:
                # Chunks keep coming: no idle timeout ever fires, only a wall-clock cap does.
                yield f"data: {json.dumps({**envelope, 'choices': [choices[0]]})}\n\n"
                await asyncio.sleep(max(reply.stream_delay, 0.05))
            if want_usage and usage is not None:
                yield f"data: {json.dumps({**envelope, 'choices': [], 'usage': usage})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def _completions(self, request: Request) -> Response:
        received, reply = await self._receive(request)
        fault = self._fault(reply)
        if fault is not None or reply is None:
            return fault or Response(status_code=500)
        body = self._envelope(received, reply, "text_completion")
        if received.body.get("stream"):
            choices: list[dict[str, Any]] = [
                {"index": 0, "text": piece, "logprobs": None, "finish_reason": None}
                for piece in _pieces(reply.text or "")
            ]
            choices.append(
                {"index": 0, "text": "", "logprobs": None, "finish_reason": reply.finish_reason}
            )
            return self._stream(received, reply, body, choices)
        body["choices"] = [
            {
                "index": 0,
                "text": reply.text or "",
                "logprobs": None,
                "finish_reason": reply.finish_reason,
            }
        ]
        return JSONResponse(body)

    # -- provider modes -----------------------------------------------------------------------

    async def _models(self, request: Request) -> Response:
        """The model list, with the context length where the mode's server reports it."""
        names = (self.mode.models if self.mode else None) or [self.model]
        cards = []
        for name in names:
            card: dict[str, Any] = {"id": name, "object": "model", "owned_by": "scripted"}
            if self.mode and self.mode.model_card_key and self.mode.context_length:
                card[self.mode.model_card_key] = self.mode.context_length
            cards.append(card)
        return JSONResponse({"object": "list", "data": cards})

    def _refusal(self, request: Request, received: ReceivedRequest) -> Reply | None:
        """The error the mode's provider answers this request with, if any."""
        mode = self.mode
        if mode is None:
            return None
        body = received.body
        chat = received.path.endswith("/chat/completions")
        if mode.azure != received.path.startswith("/openai/"):
            return Reply(status=404, error_message="Resource not found")
        if mode.azure and "api-version" not in request.query_params:
            return Reply(status=404, error_message="Resource not found (no api-version)")
        if mode.api_key is not None:
            given = request.headers.get("api-key") if mode.azure else None
            if given is None:
                given = request.headers.get("authorization", "").removeprefix("Bearer ")
            if given != mode.api_key:
                return Reply(
                    status=401,
                    error_message="Incorrect API key provided",
                    error_code="invalid_api_key",
                )
        model = request.path_params.get("deployment") or body.get("model")
        if mode.models is not None and model not in mode.models:
            if mode.azure:
                return Reply(
                    status=404,
                    error_message="The API deployment for this resource does not exist.",
                    error_code="DeploymentNotFound",
                )
            return Reply(
                status=404,
                error_message=f"The model `{model}` does not exist or you have no access to it.",
                error_code="model_not_found",
            )
        if not chat and not mode.completions:
            return Reply(status=404, error_message="Not Found")
        for name, message in mode.refused_params.items():
            if name in body:
                return Reply(status=400, error_message=message, error_code="unsupported_parameter")
        if body.get("stream") and not mode.streaming:
            return Reply(status=400, error_message="stream is not supported")
        if chat and body.get("tools"):
            forced = isinstance(body.get("tool_choice"), dict)
            if mode.tools == "refused" or (mode.tools == "no-forced" and forced):
                return Reply(
                    status=400,
                    error_message="this model does not support "
                    + ("a forced tool_choice" if forced and mode.tools == "no-forced" else "tools"),
                    error_code="invalid_request_error",
                )
        messages = body.get("messages") or []
        if chat and messages and messages[-1].get("prefix") and not mode.prefix:
            return Reply(status=400, error_message="prefix is not supported on this endpoint")
        if mode.context_length is not None:
            prompt = body.get("messages", body.get("prompt", ""))
            asked = body.get("max_tokens") or body.get("max_completion_tokens") or 0
            requested = len(json.dumps(prompt)) // 4 + int(asked)
            if requested > mode.context_length:
                return Reply(
                    status=400,
                    error_message=context_message(mode, requested),
                    error_code="context_length_exceeded",
                )
        return None
