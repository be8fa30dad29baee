"""The validation server, with MLE-bench's grading-server contract, and a client for it.

``GET /health`` answers ``{"status": "running"}``. ``POST /validate`` takes a multipart field
``file`` and answers 200 with ``{"result": "Submission is valid.", "is_valid": true}`` or
``{"result": "Submission invalid! <reason>", "is_valid": false}``; it never reveals a score.
An ``exp-id`` header (ML-Master's client) must name the served competition when present.
Unlike MLE-bench's server, each upload goes to its own temporary file, so concurrent requests
cannot overwrite each other's submission. Uploads over the size limit get 413, checked on the
declared Content-Length and again while the body streams in.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Message, Receive

from mlmaster.competition.layout import Competition
from mlmaster.competition.validation import VALID_MESSAGE, ValidationOutcome, validate_submission
from mlmaster.logs import get_logger

DEFAULT_UPLOAD_LIMIT = 512 * 1024**2
log = get_logger(__name__)


class _TooLarge(Exception):
    """The request body grew past the upload limit while streaming."""


class ValidationServerError(Exception):
    """The validation server could not be reached or did not answer with a verdict."""


def create_app(competition: Competition, upload_limit: int = DEFAULT_UPLOAD_LIMIT) -> Starlette:
    """The starlette app validating submissions for ``competition``."""

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "running"})

    async def validate(request: Request) -> JSONResponse:
        # ML-Master's own client names the competition in an ``exp-id`` header; MLE-bench's
        # sends none. One server serves one competition, so a different name is a client error.
        named = request.headers.get("exp-id")
        if named and named != competition.spec.id:
            return JSONResponse(
                {"error": f"This server validates {competition.spec.id!r}, not {named!r}."},
                status_code=400,
            )
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > upload_limit:
            return _too_large(upload_limit)
        limited = Request(request.scope, _limited(request.receive, upload_limit))
        try:
            async with limited.form(max_files=1, max_fields=10) as form:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    return JSONResponse(
                        {"error": "No file provided: send it as the multipart field 'file'."},
                        status_code=400,
                    )
                outcome = await anyio.to_thread.run_sync(_validate_upload, competition, upload)
        except _TooLarge:
            return _too_large(upload_limit)
        except Exception as error:  # a server fault, reported as MLE-bench's server does
            log.exception("validation_server_error")
            return JSONResponse(
                {"error": "An unexpected error occurred.", "details": str(error)}, status_code=500
            )
        return JSONResponse({"result": outcome.message, "is_valid": outcome.is_valid})

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/validate", validate, methods=["POST"]),
        ]
    )


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        {"error": f"Upload too large: the limit is {limit} bytes."}, status_code=413
    )


def _limited(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises :class:`_TooLarge` once the body passes ``limit`` bytes."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
        return message

    return wrapped


def _validate_upload(competition: Competition, upload: UploadFile) -> ValidationOutcome:
    """Copy the upload into a temporary file of its own, validate it, and remove it."""
    with _temporary_csv() as path:
        upload.file.seek(0)
        with path.open("wb") as out:
            shutil.copyfileobj(upload.file, out)
        return validate_submission(competition, path)


@contextlib.contextmanager
def _temporary_csv() -> Iterator[Path]:
    handle, name = tempfile.mkstemp(prefix="submission-", suffix=".csv")
    os.close(handle)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host process (the orchestrator)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _config(app: Starlette, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="off"
    )


@contextlib.asynccontextmanager
async def running_server(
    competition: Competition,
    host: str = "127.0.0.1",
    port: int = 0,
    upload_limit: int = DEFAULT_UPLOAD_LIMIT,
) -> AsyncIterator[str]:
    """Serve ``competition`` inside the running event loop; yields the base URL.

    ``port=0`` picks a free port. The server stops when the block exits.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, an answer written in two pieces waits
    # for the client's delayed ACK (about 40 ms per request on loopback).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    server = _EmbeddedServer(_config(create_app(competition, upload_limit), host, bound_port))
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(server.serve, [sock])
            while not server.started:
                if server.should_exit:
                    raise RuntimeError(f"validation server failed to start on {host}:{bound_port}")
                await anyio.sleep(0.01)
            shown_host = f"[{host}]" if family == socket.AF_INET6 else host
            try:
                yield f"http://{shown_host}:{bound_port}"
            finally:
                server.should_exit = True
    finally:
        sock.close()


def serve_forever(
    competition: Competition,
    host: str = "127.0.0.1",
    port: int = 5000,
    upload_limit: int = DEFAULT_UPLOAD_LIMIT,
) -> None:
    """Run the server in the foreground until interrupted (``mlmaster serve``)."""
    uvicorn.Server(_config(create_app(competition, upload_limit), host, port)).run()


async def validate_via_server(
    url: str,
    path: Path,
    *,
    request_timeout: float = 300.0,
    retries: int = 2,
    client: httpx.AsyncClient | None = None,
) -> ValidationOutcome:
    """Ask the server at ``url`` (ours or MLE-bench's) whether the file at ``path`` is valid.

    Transport failures and 5xx answers are retried ``retries`` times, then raise
    :class:`ValidationServerError`; an invalid submission is an outcome, not an error.
    A caller that validates many files passes its own ``client``: opening one costs tens of
    milliseconds, more than the validation itself.
    """
    content = await anyio.Path(path).read_bytes()
    endpoint = url.rstrip("/") + "/validate"
    last_problem = ""
    async with contextlib.AsyncExitStack() as stack:
        if client is None:
            client = await stack.enter_async_context(httpx.AsyncClient(timeout=request_timeout))
        for attempt in range(retries + 1):
            if attempt:
                await anyio.sleep(min(0.5 * 2**attempt, 5.0))
            try:
                response = await client.post(
                    endpoint, files={"file": (path.name or "submission.csv", content, "text/csv")}
                )
            except httpx.HTTPError as error:
                last_problem = f"{type(error).__name__}: {error}"
                continue
            if response.status_code >= 500:
                last_problem = f"HTTP {response.status_code}: {response.text[:200]}"
                continue
            return _outcome_from(response)
    raise ValidationServerError(f"no verdict from {endpoint}: {last_problem}")


def _outcome_from(response: httpx.Response) -> ValidationOutcome:
    """A verdict from a server's answer; MLE-bench's server sends only the ``result`` text."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or "result" not in body:
        raise ValidationServerError(
            f"unexpected answer from the validation server: HTTP {response.status_code} "
            f"{response.text[:200]}"
        )
    message = str(body["result"])
    is_valid = body.get("is_valid")
    if not isinstance(is_valid, bool):
        is_valid = message.strip() == VALID_MESSAGE
    return ValidationOutcome(is_valid=is_valid, message=message)
