"""The validation server, with MLE-bench's grading-server contract (``mlmaster serve``).

``GET /health`` answers ``{"status": "running"}``. ``POST /validate`` takes a multipart field
``file`` and answers 200 with ``{"result": "Submission is valid.", "is_valid": true}`` or
``{"result": "Submission invalid! <reason>", "is_valid": false}``; it never reveals a score.
An ``exp-id`` header (ML-Master's client) must name the served competition when present.
Unlike MLE-bench's server, each upload goes to its own temporary file, so concurrent requests
cannot overwrite each other's submission.

The server faces clients it does not trust: uploads over the size limit get 413 (checked on the
declared Content-Length and again while the body streams in), a malformed multipart body 400,
a body that does not arrive in time 408; a connection whose request headers do not arrive in
time is closed, and past a number of connections at once new ones get 503.
The checks are :mod:`mlmaster.competition.validation`'s, the same code a run's in-process
validator calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import h11
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Message, Receive
from uvicorn.protocols.http.h11_impl import H11Protocol

from mlmaster.competition.layout import Competition
from mlmaster.competition.validation import (
    DEFAULT_SIZE_LIMIT,
    SubmissionRules,
    ValidationOutcome,
)
from mlmaster.errors import UserError
from mlmaster.logs import get_logger

DEFAULT_UPLOAD_LIMIT = DEFAULT_SIZE_LIMIT
HEADER_TIMEOUT = 10.0  # seconds a client has to send its request line and headers
BODY_TIMEOUT = 120.0  # seconds a client has to send a whole upload
MAX_CONNECTIONS = 64  # connections and requests at once; beyond, new ones get 503
log = get_logger(__name__)


class _TooLarge(Exception):
    """The request body grew past the upload limit while streaming."""


def create_app(competition: Competition, upload_limit: int = DEFAULT_UPLOAD_LIMIT) -> Starlette:
    """The starlette app validating submissions for ``competition``.

    The competition's answers and sample are read here, once: a broken file raises
    :class:`~mlmaster.competition.validation.CompetitionFilesError` before anything is served.
    """
    rules = SubmissionRules.of(competition, upload_limit, strict=True)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "running"})

    async def validate(request: Request) -> JSONResponse:
        # ML-Master's own client names the competition in an ``exp-id`` header; MLE-bench's
        # sends none. One server serves one competition, so a different name is a client error.
        named = request.headers.get("exp-id")
        if named and named != competition.spec.id:
            return _error(f"This server validates {competition.spec.id!r}, not {named!r}.", 400)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > upload_limit:
            return _too_large(upload_limit)
        limited = Request(request.scope, _limited(request.receive, upload_limit))
        try:
            with anyio.fail_after(BODY_TIMEOUT):
                async with limited.form(max_files=1, max_fields=10) as form:
                    upload = form.get("file")
                    if not isinstance(upload, UploadFile):
                        return _error(
                            "No file provided: send it as the multipart field 'file'.", 400
                        )
                    outcome = await anyio.to_thread.run_sync(_validate_upload, rules, upload)
        except _TooLarge:
            return _too_large(upload_limit)
        except (MultiPartException, HTTPException) as error:  # starlette wraps the first
            detail = getattr(error, "detail", None) or getattr(error, "message", str(error))
            return _error(f"The request body is not valid multipart form data: {detail}", 400)
        except TimeoutError:
            return _error(f"The upload did not arrive within {BODY_TIMEOUT:.0f} s.", 408)
        except ClientDisconnect:
            return _error("The client went away before the upload was complete.", 400)
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


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _too_large(limit: int) -> JSONResponse:
    return _error(f"Upload too large: the limit is {limit} bytes.", 413)


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


def _validate_upload(rules: SubmissionRules, upload: UploadFile) -> ValidationOutcome:
    """Copy the upload into a temporary file of its own, validate it, and remove it."""
    with _temporary_csv() as path:
        upload.file.seek(0)
        with path.open("wb") as out:
            shutil.copyfileobj(upload.file, out)
        return rules.check(path)


@contextlib.contextmanager
def _temporary_csv() -> Iterator[Path]:
    handle, name = tempfile.mkstemp(prefix="submission-", suffix=".csv")
    os.close(handle)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


class _GuardedH11(H11Protocol):
    """uvicorn's HTTP/1.1 connection, closed when a request's headers do not arrive in time.

    uvicorn times out idle keep-alive connections but waits forever for a request line and
    headers sent byte by byte; each such connection would hold a slot of the concurrency limit.
    """

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # the request's headers are in
            self._disarm()

    def on_response_complete(self) -> None:
        self._arm()  # for the next request on this connection (may be disarmed at once)
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(HEADER_TIMEOUT, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _config(app: Starlette, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=_GuardedH11,
        limit_concurrency=MAX_CONNECTIONS,
        timeout_keep_alive=5,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


def _bound_socket(host: str, port: int) -> socket.socket:
    """A listening-ready socket on ``host:port``; a busy port is a ``UserError``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, an answer written in two pieces waits
    # for the client's delayed ACK (about 40 ms per request on loopback).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise UserError(
                f"port {port} on {host} is already in use; stop what listens there or pass "
                "another --port"
            ) from None
        raise UserError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return sock


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
    app = create_app(competition, upload_limit)
    sock = _bound_socket(host, port)
    bound_port = sock.getsockname()[1]
    server = _EmbeddedServer(_config(app, host, bound_port))
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(server.serve, [sock])
            while not server.started:
                if server.should_exit:
                    raise RuntimeError(f"validation server failed to start on {host}:{bound_port}")
                await anyio.sleep(0.01)
            shown_host = f"[{host}]" if sock.family == socket.AF_INET6 else host
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
    """Run the server in the foreground until interrupted (``mlmaster serve``).

    The port is bound before uvicorn starts, so a busy one is a ``UserError`` (exit 2 with one
    line), not uvicorn's own message and exit code.
    """
    app = create_app(competition, upload_limit)
    sock = _bound_socket(host, port)
    try:
        uvicorn.Server(_config(app, host, port)).run(sockets=[sock])
    finally:
        sock.close()
