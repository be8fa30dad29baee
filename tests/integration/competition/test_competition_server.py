"""The validation server over real HTTP on loopback: MLE-bench's contract, limits, concurrency."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import httpx
import pandas as pd
import pytest
from competition_malformed import (
    DOMAIN_EDITS,
    FRAME_EDITS,
    RAW_FILES,
    write_domain_edit,
    write_frame_edit,
    write_raw,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mlmaster.competition import server as server_module
from mlmaster.competition.layout import Competition, load_competition
from mlmaster.competition.server import running_server
from mlmaster.competition.validation import CompetitionFilesError
from mlmaster.competition.validators.base import ValidationUnavailable
from mlmaster.competition.validators.http import HttpValidator


@pytest.fixture
def auc(data_dir: Path, make_competition: Callable[[str], Path]) -> Competition:
    make_competition("auc")
    return load_competition(data_dir, "auc")


async def post(url: str, path: Path) -> httpx.Response:
    content = await anyio.Path(path).read_bytes()
    async with httpx.AsyncClient() as client:
        return await client.post(f"{url}/validate", files={"file": ("s.csv", content)})


async def test_health_and_a_valid_submission(auc: Competition) -> None:
    async with running_server(auc) as url, httpx.AsyncClient() as client:
        health = await client.get(f"{url}/health")
        assert health.status_code == 200 and health.json() == {"status": "running"}
        sample = auc.paths.sample_submission
        response = await client.post(
            f"{url}/validate", files={"file": ("any-name.txt", sample.read_bytes())}
        )
    assert response.status_code == 200
    assert response.json() == {"result": "Submission is valid.", "is_valid": True}


async def test_answers_are_valid_and_no_score_is_revealed(auc: Competition) -> None:
    async with running_server(auc) as url:
        response = await post(url, auc.answers_path)
    assert response.json() == {"result": "Submission is valid.", "is_valid": True}


async def test_malformed_variants_are_invalid_with_reasons(
    data_dir: Path, make_competition: Callable[[str], Path], tmp_path: Path
) -> None:
    cases: list[tuple[str, Path, str]] = []
    root = make_competition("auc")
    for name, (_, expected) in FRAME_EDITS.items():
        cases.append(("auc", write_frame_edit(root, name, tmp_path), expected))
    for name, (_, expected) in RAW_FILES.items():
        cases.append(("auc", write_raw(name, tmp_path), expected))
    for name, (task, _, expected) in DOMAIN_EDITS.items():
        if not (data_dir / task).exists():
            make_competition(task)
        cases.append((task, write_domain_edit(data_dir / task, name, tmp_path), expected))
    for task in sorted({task for task, _, _ in cases}):
        async with running_server(load_competition(data_dir, task)) as url:
            for _, path, expected in (c for c in cases if c[0] == task):
                response = await post(url, path)
                body = response.json()
                assert response.status_code == 200
                assert body["is_valid"] is False, path.name
                assert body["result"].startswith("Submission invalid! ")
                assert expected in body["result"], (path.name, body["result"])
                assert set(body) == {"result", "is_valid"}


async def test_missing_file_field_is_400(auc: Competition) -> None:
    async with running_server(auc) as url, httpx.AsyncClient() as client:
        response = await client.post(f"{url}/validate", data={"other": "x"})
        no_body = await client.post(f"{url}/validate")
    assert response.status_code == 400
    assert "'file'" in response.json()["error"]
    assert no_body.status_code == 400


async def test_exp_id_header_must_name_the_served_competition(auc: Competition) -> None:
    content = auc.paths.sample_submission.read_bytes()
    async with running_server(auc) as url, httpx.AsyncClient() as client:
        same = await client.post(
            f"{url}/validate", files={"file": ("s.csv", content)}, headers={"exp-id": "auc"}
        )
        other = await client.post(
            f"{url}/validate", files={"file": ("s.csv", content)}, headers={"exp-id": "rmse"}
        )
    assert same.json()["is_valid"] is True
    assert other.status_code == 400 and "'rmse'" in other.json()["error"]


async def test_server_fault_is_500_with_details(
    auc: Competition, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    content = auc.paths.sample_submission.read_bytes()
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "gone"))  # uploads cannot be saved
    async with running_server(auc) as url, httpx.AsyncClient() as client:
        response = await client.post(f"{url}/validate", files={"file": ("s.csv", content)})
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "An unexpected error occurred."
    assert "gone" in body["details"]


async def test_a_broken_answers_file_stops_the_server_before_it_serves(auc: Competition) -> None:
    auc.answers_path.write_text("not_the_id,target\nr1,1\n")
    with pytest.raises(CompetitionFilesError, match=r"answers\.csv lacks column"):
        async with running_server(auc):
            pass


async def test_upload_over_the_limit_is_413_by_header_and_while_streaming(
    auc: Competition,
) -> None:
    big = b"id,target\n" + b"r100,0.5\n" * 2000  # about 18 kB
    boundary = "xyzzy"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    async def chunks():  # no Content-Length: the body arrives chunked
        yield head
        for start in range(0, len(big), 1024):
            yield big[start : start + 1024]
        yield tail

    async with (
        running_server(auc, upload_limit=4096) as url,
        httpx.AsyncClient() as client,
    ):
        declared = await client.post(f"{url}/validate", files={"file": ("s.csv", big)})
        streamed = await client.post(
            f"{url}/validate",
            content=chunks(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        small = await client.post(
            f"{url}/validate", files={"file": ("s.csv", auc.paths.sample_submission.read_bytes())}
        )
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert "4096" in streamed.json()["error"]
    assert small.status_code == 200 and small.json()["is_valid"] is True


async def test_twenty_concurrent_validations_get_their_own_answers(
    auc: Competition, tmp_path: Path
) -> None:
    sample = pd.read_csv(auc.paths.sample_submission, dtype={"id": str})
    files: list[tuple[Path, bool]] = []
    for i in range(20):
        frame = sample.copy()
        frame["target"] = (i % 10) / 10  # each file differs
        valid = i % 2 == 0
        if not valid:
            frame.loc[i, "target"] = 1.0 + i  # out of range at row i + 1
        path = tmp_path / f"concurrent-{i}.csv"
        frame.to_csv(path, index=False)
        files.append((path, valid))
    contents = [path.read_bytes() for path, _ in files]
    results: dict[int, dict[str, object]] = {}
    async with running_server(auc) as url, httpx.AsyncClient() as client:

        async def one(i: int) -> None:
            response = await client.post(
                f"{url}/validate", files={"file": (f"{i}.csv", contents[i])}
            )
            results[i] = response.json()

        async with anyio.create_task_group() as group:
            for i in range(len(files)):
                group.start_soon(one, i)
    for i, (_, valid) in enumerate(files):
        assert results[i]["is_valid"] is valid, (i, results[i])
        if not valid:
            assert f"{1.0 + i!r} at row {i + 1} " in str(results[i]["result"])


async def validate_over_http(url: str, path: Path, patience: float = 5.0) -> object:
    async with httpx.AsyncClient() as client:
        validator = HttpValidator(url, client, size_limit=10**9, patience=patience)
        return await validator.validate(path)


async def test_http_validator_reads_our_server(auc: Competition, tmp_path: Path) -> None:
    bad = write_frame_edit(auc.paths.root, "missing_column", tmp_path)
    async with running_server(auc) as url:
        good = await validate_over_http(url, auc.paths.sample_submission)
        invalid = await validate_over_http(url + "/", bad)
    assert good.is_valid and good.message == "Submission is valid."  # type: ignore[attr-defined]
    assert not invalid.is_valid  # type: ignore[attr-defined]
    assert "missing column(s) 'target'" in invalid.message  # type: ignore[attr-defined]


async def test_http_validator_reads_mlebench_answers_without_is_valid(tmp_path: Path) -> None:
    """MLE-bench's server sends only the result text; the verdict is read from it."""
    verdicts = iter(["Submission is valid.", "Submission invalid! bad ids"])

    async def validate(request: Request) -> JSONResponse:
        await request.form()
        return JSONResponse({"result": next(verdicts)})

    import uvicorn

    app = Starlette(routes=[Route("/validate", validate, methods=["POST"])])
    path = tmp_path / "s.csv"
    path.write_text("id,target\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        async with anyio.create_task_group() as group:
            group.start_soon(server.serve, [sock])
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no start event)
                await anyio.sleep(0.01)
            first = await validate_over_http(f"http://127.0.0.1:{port}", path)
            second = await validate_over_http(f"http://127.0.0.1:{port}", path)
            server.should_exit = True
    assert first.is_valid is True  # type: ignore[attr-defined]
    assert second.is_valid is False  # type: ignore[attr-defined]
    assert second.message.endswith("bad ids")  # type: ignore[attr-defined]


async def test_http_validator_without_a_server_has_no_verdict(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("id,target\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        with pytest.raises(ValidationUnavailable, match="no verdict"):
            await validate_over_http(f"http://127.0.0.1:{port}", path, patience=0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_command_takes_the_competition_from_the_environment(
    auc: Competition, data_dir: Path
) -> None:
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLMASTER_")}
    environment["COMPETITION_ID"] = "auc"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlmaster",
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.1)
        assert health.json() == {"status": "running"}
        response = httpx.post(
            f"http://127.0.0.1:{port}/validate",
            files={"file": ("s.csv", auc.paths.sample_submission.read_bytes())},
        )
        assert response.json()["is_valid"] is True
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_serve_command_without_competition_exits_2(data_dir: Path) -> None:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MLMASTER_") and k != "COMPETITION_ID"
    }
    done = subprocess.run(
        [sys.executable, "-m", "mlmaster", "serve", "--data-dir", str(data_dir)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "COMPETITION_ID" in done.stderr
    assert "Traceback" not in done.stderr


async def test_a_malformed_multipart_body_is_400(auc: Competition) -> None:
    async with running_server(auc) as url, httpx.AsyncClient() as client:
        response = await client.post(
            f"{url}/validate",
            content=b"--b\r\nContent-Disposition: form-data; name=file\r\n\r\ntruncated",
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        no_boundary = await client.post(
            f"{url}/validate",
            content=b"x",
            headers={"Content-Type": "multipart/form-data"},
        )
    assert response.status_code == 400, response.text
    assert no_boundary.status_code == 400, no_boundary.text
    assert "multipart" in response.json()["error"]


async def _raw(port: int, data: bytes) -> anyio.abc.SocketStream:
    stream = await anyio.connect_tcp("127.0.0.1", port)
    await stream.send(data)
    return stream


async def _closed_within(stream: anyio.abc.SocketStream, seconds: float) -> bytes:
    """What the server sends before it closes the connection (fails if it stays open)."""
    received = b""
    with anyio.fail_after(seconds):
        while True:
            try:
                received += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionResetError):
                return received


async def test_half_sent_headers_and_bodies_are_not_kept_open(
    auc: Competition, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "HEADER_TIMEOUT", 0.5)
    monkeypatch.setattr(server_module, "BODY_TIMEOUT", 0.5)
    async with running_server(auc) as url:
        port = int(url.rsplit(":", 1)[1])
        headers = await _raw(port, b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Le")
        body = await _raw(
            port,
            b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n\r\n--b\r\n",
        )
        assert await _closed_within(headers, 20) == b""
        answer = await _closed_within(body, 20)
        # The server is still there for others.
        async with httpx.AsyncClient() as client:
            health = await client.get(f"{url}/health")
    assert b" 408 " in answer.split(b"\r\n")[0]
    assert health.status_code == 200


async def test_connections_past_the_limit_get_503(
    auc: Competition, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "MAX_CONNECTIONS", 2)
    async with running_server(auc) as url:
        port = int(url.rsplit(":", 1)[1])
        holders = [await _raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\n") for _ in range(2)]
        await anyio.sleep(0.2)
        async with httpx.AsyncClient() as client:
            refused = await client.get(f"{url}/health")
        for holder in holders:
            await holder.aclose()
    assert refused.status_code == 503


async def test_huge_header_fields_get_a_clear_answer(auc: Competition, tmp_path: Path) -> None:
    name = "x" * 200_000
    path = tmp_path / "wide.csv"
    path.write_text(f"id,{name}\nr100,0.5\n")
    async with running_server(auc) as url:
        verdict = (await post(url, path)).json()
    assert verdict["is_valid"] is False
    assert "missing column(s) 'target'" in verdict["result"]
    assert "(200000 characters)" in verdict["result"] and len(verdict["result"]) < 500


def test_serve_on_a_busy_port_exits_2_in_one_line(auc: Competition, data_dir: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLMASTER_")}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "mlmaster",
                "serve",
                "auc",
                "--data-dir",
                str(data_dir),
                "--port",
                str(port),
            ],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("mlmaster:")]
    assert len(errors) == 1 and f"port {port}" in errors[0] and "in use" in errors[0]
    assert "Traceback" not in done.stderr
