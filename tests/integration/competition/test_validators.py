"""The Validator seam against real servers on loopback: in process and over HTTP agree; an
external grader gets one upload at a time (MLE-bench's saves each to one fixed path), a grader
that goes away is waited for, never blamed on the node, and a dead one stops the run at once."""

from __future__ import annotations

import socket
import typing
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import pandas as pd
import pytest
import uvicorn
from competition_malformed import DOMAIN_EDITS, FRAME_EDITS, write_domain_edit, write_frame_edit
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mlmaster.competition.layout import Competition, load_competition
from mlmaster.competition.server import running_server
from mlmaster.competition.validation import SubmissionRules
from mlmaster.competition.validators import (
    VALIDATORS,
    ValidationUnavailable,
    check_grader,
    open_validator,
    validator_name,
)
from mlmaster.competition.validators.http import HttpValidator
from mlmaster.errors import UserError
from mlmaster.settings.model import GraderSettings


@pytest.fixture
def auc(data_dir: Path, make_competition: Callable[[str], Path]) -> Competition:
    make_competition("auc")
    return load_competition(data_dir, "auc")


def test_settings_name_exactly_the_registered_validators() -> None:
    field = GraderSettings.model_fields["validator"]
    assert set(typing.get_args(field.annotation)) == {"auto", *VALIDATORS}
    assert validator_name(GraderSettings()) == "in-process"
    assert validator_name(GraderSettings(url="http://127.0.0.1:5000")) == "http"
    with pytest.raises(ValueError, match=r"needs grader\.url"):
        GraderSettings(validator="http")


async def test_in_process_and_http_give_the_same_verdicts(
    data_dir: Path, make_competition: Callable[[str], Path], tmp_path: Path
) -> None:
    root = make_competition("auc")
    cases = [write_frame_edit(root, name, tmp_path) for name in FRAME_EDITS]
    cases.append(root / "prepared" / "public" / "sample_submission.csv")
    for name, (task, _, _) in DOMAIN_EDITS.items():
        if task == "auc":
            cases.append(write_domain_edit(root, name, tmp_path))
    competition = load_competition(data_dir, "auc")
    async with running_server(competition) as url:
        over_http = GraderSettings(url=url)
        async with (
            open_validator(GraderSettings(), competition) as local,
            open_validator(over_http, competition) as remote,
        ):
            assert (local.name, remote.name) == ("in-process", "http")
            for path in cases:
                assert await local.validate(path) == await remote.validate(path), path.name


# --- an external grader that, like MLE-bench's, saves every upload to one fixed path -------


@asynccontextmanager
async def fixed_path_grader(
    competition: Competition, fixed: Path, *, fail_first: int = 0
) -> AsyncIterator[str]:
    """MLE-bench's server in miniature: each upload overwrites ``fixed``, then (after a pause
    in which another request can overwrite it) the file at ``fixed`` is validated. The first
    ``fail_first`` requests lose their verdict (500), as when the file vanishes mid-read."""
    rules = SubmissionRules.of(competition)
    seen = 0

    async def validate(request: Request) -> JSONResponse:
        nonlocal seen
        seen += 1
        form = await request.form()
        upload = form["file"]
        assert not isinstance(upload, str)
        await anyio.Path(fixed).write_bytes(await upload.read())
        await anyio.sleep(0.3)  # long enough for a concurrent upload to overwrite it
        if seen <= fail_first:
            return JSONResponse({"error": "An unexpected error occurred."}, status_code=500)
        outcome = rules.check(fixed)
        return JSONResponse({"result": outcome.message})  # MLE-bench sends only the text

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "running"})

    app = Starlette(
        routes=[
            Route("/validate", validate, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )
    async with serving(app) as url:
        yield url


@asynccontextmanager
async def serving(app: Starlette, port: int = 0) -> AsyncIterator[str]:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        async with anyio.create_task_group() as group:
            group.start_soon(server.serve, [sock])
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no start event)
                await anyio.sleep(0.01)
            try:
                yield f"http://127.0.0.1:{sock.getsockname()[1]}"
            finally:
                server.should_exit = True


def _submissions(competition: Competition, folder: Path, count: int) -> list[tuple[Path, bool]]:
    """``count`` different files, every other one invalid (a probability out of range)."""
    sample = pd.read_csv(competition.paths.sample_submission, dtype={"id": str})
    files = []
    for i in range(count):
        frame = sample.copy()
        frame["target"] = (i % 10) / 10
        valid = i % 2 == 0
        if not valid:
            frame.loc[i, "target"] = 2.0 + i
        path = folder / f"sub-{i}.csv"
        frame.to_csv(path, index=False)
        files.append((path, valid))
    return files


async def test_the_fixed_path_grader_really_mixes_up_concurrent_uploads(
    auc: Competition, tmp_path: Path
) -> None:
    """The hazard itself: two uploads in flight at once get the same (last) file's verdict."""
    files = _submissions(auc, tmp_path, 2)
    results: dict[int, str] = {}
    async with fixed_path_grader(auc, tmp_path / "fixed.csv") as url, httpx.AsyncClient() as c:

        async def raw(i: int) -> None:
            content = files[i][0].read_bytes()
            response = await c.post(f"{url}/validate", files={"file": ("s.csv", content)})
            results[i] = response.json()["result"]

        async with anyio.create_task_group() as group:
            group.start_soon(raw, 0)
            await anyio.sleep(0.05)
            group.start_soon(raw, 1)
    assert results[0] == results[1]  # one of them got the other's verdict


async def test_concurrent_validations_against_a_fixed_path_grader_get_their_own_verdicts(
    auc: Competition, tmp_path: Path
) -> None:
    files = _submissions(auc, tmp_path, 12)
    verdicts: dict[int, bool] = {}
    async with (
        fixed_path_grader(auc, tmp_path / "fixed.csv", fail_first=2) as url,
        open_validator(GraderSettings(url=url), auc) as validator,
    ):

        async def one(i: int) -> None:
            outcome = await validator.validate(files[i][0])
            verdicts[i] = outcome.is_valid
            if not outcome.is_valid:
                assert f"{2.0 + i!r} at row {i + 1} " in outcome.message

        async with anyio.create_task_group() as group:
            for i in range(len(files)):
                group.start_soon(one, i)
    # Each its own verdict, and the two lost verdicts were asked for again, not called invalid.
    assert verdicts == {i: valid for i, (_, valid) in enumerate(files)}


async def test_a_grader_that_goes_down_and_comes_back_still_gives_the_verdict(
    auc: Competition, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    bad = write_frame_edit(auc.paths.root, "missing_column", tmp_path)
    async with running_server(auc, port=port), httpx.AsyncClient() as client:
        validator = HttpValidator(url, client, size_limit=10**9, patience=120)
        assert (await validator.validate(auc.paths.sample_submission)).is_valid
    # The grader is down now: the verdict waits for it instead of failing the node.
    async with httpx.AsyncClient() as client, anyio.create_task_group() as group:
        validator = HttpValidator(url, client, size_limit=10**9, patience=120)
        verdicts: list[bool] = []

        async def ask() -> None:
            verdicts.append((await validator.validate(auc.paths.sample_submission)).is_valid)
            verdicts.append((await validator.validate(bad)).is_valid)

        group.start_soon(ask)
        await anyio.sleep(1.5)
        assert verdicts == []
        async with running_server(auc, port=port):
            with anyio.fail_after(60):
                while len(verdicts) < 2:  # noqa: ASYNC110 (the ask task reports by list)
                    await anyio.sleep(0.05)
    assert verdicts == [True, False]


async def test_a_grader_down_past_its_patience_gives_no_verdict_not_an_invalid_one(
    auc: Competition,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        async with httpx.AsyncClient() as client:
            validator = HttpValidator(
                f"http://127.0.0.1:{port}", client, size_limit=10**9, patience=1.0
            )
            with pytest.raises(ValidationUnavailable, match="no verdict"):
                await validator.validate(auc.paths.sample_submission)


async def test_a_dead_grader_url_is_refused_before_the_run_starts() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        with pytest.raises(UserError, match=r"does not answer GET /health"):
            await check_grader(GraderSettings(url=f"http://127.0.0.1:{port}"))
    await check_grader(GraderSettings())  # in process: nothing to reach


async def test_a_grader_down_when_the_run_opens_its_validator_is_waited_for(
    auc: Competition,
) -> None:
    # The run checked the grader before making its directory; if it goes down between that check
    # and the validator's opening, the run has started: its verdicts are waited for (patience),
    # it is not ended with a start-up error.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        settings = GraderSettings(url=f"http://127.0.0.1:{port}", patience=1.0)
        async with open_validator(settings, auc) as validator:
            with pytest.raises(ValidationUnavailable, match="no verdict"):
                await validator.validate(auc.paths.sample_submission)


async def test_files_too_large_are_invalid_without_an_upload(
    auc: Competition, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as stream:  # sparse: 3 GB on paper, nothing on disk
        stream.truncate(3 * 1024**3)
    calls = 0

    async def validate(request: Request) -> JSONResponse:
        nonlocal calls
        calls += 1
        return JSONResponse({"result": "Submission is valid."})

    app = Starlette(routes=[Route("/validate", validate, methods=["POST"])])
    async with serving(app) as url, httpx.AsyncClient() as client:
        validator = HttpValidator(url, client, size_limit=512 * 1024**2, patience=5)
        outcome = await validator.validate(huge)
    assert not outcome.is_valid and "over the limit" in outcome.message
    assert calls == 0


async def test_in_process_verdicts_on_small_and_large_files_alike(
    auc: Competition, tmp_path: Path
) -> None:
    """Small files are checked in the event loop, large ones in a thread: same verdicts."""
    small = tmp_path / "small.csv"
    small.write_bytes(auc.paths.sample_submission.read_bytes())
    large = tmp_path / "large.csv"
    large.write_bytes(small.read_bytes() + b"r100,0.5\n" * 100_000)  # about 900 kB
    async with open_validator(GraderSettings(), auc) as validator:
        assert (await validator.validate(small)).is_valid
        verdict = await validator.validate(large)
        missing = await validator.validate(tmp_path / "absent.csv")
    assert not verdict.is_valid and "more than 40 rows" in verdict.message
    assert not missing.is_valid and "no file at" in missing.message


async def test_a_grader_still_starting_is_waited_for_at_start(auc: Competition) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = anyio.Event()
    done = anyio.Event()

    async def late_grader() -> None:
        await anyio.sleep(1.5)
        async with running_server(auc, port=port):
            started.set()
            await done.wait()

    async with anyio.create_task_group() as group:
        group.start_soon(late_grader)
        await check_grader(GraderSettings(url=f"http://127.0.0.1:{port}"))
        assert started.is_set()
        done.set()
