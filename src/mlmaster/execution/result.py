"""The typed outcome of running one script: the ``execution`` part's boundary type."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

KilledReason = Literal["timeout", "memory", "cancelled"]


class ScriptException(BaseModel):
    """The last traceback a script printed, parsed."""

    type: str  # e.g. "KeyError"
    message: str
    file: str | None = None
    line: int | None = None
    code_line: str | None = None  # the source line that failed, when shown


class CapturedOutput(BaseModel):
    """Head and tail of one stream, with how much was cut between them."""

    head: str = ""
    tail: str = ""
    total_bytes: int = 0
    cut_bytes: int = 0

    @property
    def text(self) -> str:
        if not self.cut_bytes:
            return self.head + self.tail
        return f"{self.head}\n[... {self.cut_bytes} bytes cut ...]\n{self.tail}"


class ExecutionResult(BaseModel):
    exit_code: int | None  # None when killed before it could exit
    timed_out: bool = False
    killed_reason: KilledReason | None = None
    runtime: float  # seconds, wall clock
    stdout: CapturedOutput = CapturedOutput()
    stderr: CapturedOutput = CapturedOutput()
    exception: ScriptException | None = None
    peak_memory: int | None = None  # bytes, whole process tree, sampled
    cpu_time: float | None = None  # seconds, user + system, whole process tree
    # mlmaster's own copy of the script's submission/submission.csv (never the workspace file)
    submission_path: Path | None = None
    submission_problem: str | None = None  # why a file the script left was not taken
    queue_wait: float = 0.0  # seconds spent waiting for a slot before the script started
    cpus: list[int] = []
    gpus: list[int] = []

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and self.killed_reason is None

    def output_tail(self, chars: int = 4000) -> str:
        """The end of stdout and stderr together, for reviews and prompts."""
        text = self.stdout.text + ("\n" + self.stderr.text if self.stderr.text else "")
        return text[-chars:]
