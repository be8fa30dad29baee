"""The benchmark's scripted LLM server in a process of its own: real HTTP, a real child process."""

from __future__ import annotations

import os

import httpx
import psutil
import pytest

from mlmaster.bench.throughput import SleepingCoderScript
from mlmaster.testing.server_process import ServerProcess


def _listener(port: int) -> int | None:
    """The pid of the process listening on ``port`` of 127.0.0.1 (None: nobody)."""
    for connection in psutil.net_connections("tcp"):
        if connection.laddr.port == port and connection.status == psutil.CONN_LISTEN:
            return connection.pid
    return None


async def test_it_answers_from_a_child_process_and_leaves_nothing_behind() -> None:
    async with ServerProcess(SleepingCoderScript(0.5), latency=0.0) as server:
        listener = _listener(server.port)
        assert listener is not None and listener != os.getpid()
        assert psutil.Process(listener).ppid() == os.getpid()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            first, second = [
                await client.post(
                    "/chat/completions",
                    json={"model": "m", "messages": [{"role": "user", "content": "code"}]},
                )
                for _ in range(2)
            ]
            review = await client.post(
                "/chat/completions",
                json={
                    "model": "m",
                    "messages": [{"role": "user", "content": "review"}],
                    "tools": [{"type": "function", "function": {"name": "submit_review"}}],
                },
            )
    assert first.status_code == 200
    code = first.json()["choices"][0]["message"]["content"]
    assert code.startswith("Plan: attempt 1,") and "time.sleep(0.5)" in code
    # The script object lives in the child and keeps its count across calls.
    assert second.json()["choices"][0]["message"]["content"].startswith("Plan: attempt 2,")
    [call] = review.json()["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "submit_review"
    # Stopped: the child is gone and the port refuses connections.
    assert not psutil.pid_exists(listener) or psutil.Process(listener).status() == "zombie"
    async with httpx.AsyncClient(timeout=5) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{server.base_url}/models")
