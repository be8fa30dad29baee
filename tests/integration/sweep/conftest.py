"""Sweep fixtures: two small bundled competitions, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from sweep_helpers import COMPETITIONS

from mlmaster.competition.suite.build import build_suite


@pytest.fixture(scope="session")
def sweep_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("sweep-data")
    build_suite(dest, only=list(COMPETITIONS))
    return dest
