"""End-to-end fixtures: a small bundled competition built once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlmaster.competition.suite.build import build_suite


@pytest.fixture(scope="session")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("suite")
    build_suite(dest, only=["digits", "diabetes"])
    return dest


class Cli:
    """Runs ``python -m mlmaster`` as a user would, with no MLMASTER_* from the test's env."""

    @staticmethod
    def argv(*args: str) -> list[str]:
        return [sys.executable, "-m", "mlmaster", *args]

    @staticmethod
    def env(**extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLMASTER_")}
        env.update(extra)
        return env

    def run(self, *args: str, timeout: float = 240, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args), capture_output=True, text=True, env=self.env(**env), timeout=timeout
        )

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(**env),
        )


@pytest.fixture
def cli() -> Cli:
    return Cli()
