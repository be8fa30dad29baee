"""A :class:`ScriptedServer` in a process of its own: the benchmark's stand-in for a remote LLM.

A real endpoint runs on another machine, so its request handling costs the orchestrator nothing.
A scripted server on the orchestrator's own event loop would charge its HTTP parsing and JSON
building to the loop (and hold the GIL meanwhile), and the benchmark would count that as
orchestration overhead. Here it runs in a child Python process, so only the client's side of
each call is paid where it is measured.

The child is this module run as a program: the script and latency arrive pickled on its stdin,
it answers with its port on stdout, and it stops when its stdin closes (so also when the parent
dies). The script must therefore be picklable, and the requests the child receives stay there:
tests that inspect :attr:`ScriptedServer.requests` use the in-process server.

    async with ServerProcess(SleepingCoderScript(1.0), latency=1.0) as server:
        settings = bench_settings(..., server.base_url, ...)
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
from types import TracebackType
from typing import IO

import anyio

from mlmaster.testing.scripted_server import Script, ScriptedServer

START_TIMEOUT = 60.0  # seconds for the child to import the server and listen (a busy machine)
STOP_TIMEOUT = 5.0  # seconds for it to close its connections and exit before it is killed


class ServerProcess:
    """Serves ``script`` with ``latency`` from a child process on 127.0.0.1."""

    def __init__(self, script: Script, *, latency: float = 0.0) -> None:
        self.script = script
        self.latency = latency
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> ServerProcess:
        payload = pickle.dumps((self.script, self.latency))
        # The child finds the same modules as this process, wherever they were found.
        env = os.environ | {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._process = process = await anyio.to_thread.run_sync(_start, env)
        try:
            with anyio.fail_after(START_TIMEOUT):
                line = await anyio.to_thread.run_sync(
                    _hand_over, process, payload, abandon_on_cancel=True
                )
            if not line.strip().isdigit():
                raise RuntimeError(f"the scripted server process did not start ({line!r})")
            self.port = int(line)
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop()

    async def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_end, process)


def _start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", __name__]
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)


def _hand_over(process: subprocess.Popen[bytes], payload: bytes) -> str:
    """Send the script; return the child's first line (its port, or nothing if it died)."""
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(len(payload).to_bytes(8, "big") + payload)
        process.stdin.flush()
    except BrokenPipeError:
        return ""
    return process.stdout.readline().decode(errors="replace")


def _end(process: subprocess.Popen[bytes]) -> None:
    """Close the child's stdin (its signal to stop), then wait for it, or kill it."""
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(BrokenPipeError):
                stream.close()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The child: read the script, serve it, say the port, serve until stdin closes."""
    size = int.from_bytes(stdin.read(8), "big")
    script, latency = pickle.loads(stdin.read(size))

    async def main() -> None:
        async with ScriptedServer(script, latency=latency) as server:
            stdout.write(f"{server.port}\n".encode())
            stdout.flush()
            await anyio.to_thread.run_sync(stdin.read)  # returns at end of file: stop

    anyio.run(main)


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
