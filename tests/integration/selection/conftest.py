"""A bundled competition with a training table, built once for the selection tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlmaster.competition.layout import Competition, load_competition
from mlmaster.competition.suite.build import build_suite


@pytest.fixture(scope="session")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("suite")
    build_suite(dest, only=["digits", "diabetes"])
    return dest


@pytest.fixture
def digits(suite: Path) -> Competition:
    return load_competition(suite, "digits")


@pytest.fixture
def diabetes(suite: Path) -> Competition:
    return load_competition(suite, "diabetes")
