"""Fixtures of the offline coder's unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from offline_tables import MakeCompetition, competition_maker


@pytest.fixture
def make_competition(tmp_path: Path) -> MakeCompetition:
    return competition_maker(tmp_path)
