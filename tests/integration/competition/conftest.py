"""Fixtures: a temporary data dir and a writer of tiny competitions into it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from competition_tiny import write_competition


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def make_competition(data_dir: Path) -> Callable[[str], Path]:
    return lambda name: write_competition(data_dir, name)
