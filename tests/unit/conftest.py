"""Fixtures that more than one unit-test folder uses."""

from pathlib import Path

import pytest


@pytest.fixture
def public_dir(tmp_path: Path) -> Path:
    """A tiny competition's public folder: the data preview reads it, prompts name it."""
    public = tmp_path / "public"
    public.mkdir()
    (public / "train.csv").write_text("id,x,y,city\n1,0.5,1.0,Oslo\n2,,2.0,Rome\n3,1.5,3.0,\n")
    (public / "test.csv").write_text("id,x,city\n4,2.0,Oslo\n")
    (public / "description.md").write_text("# Demo\nPredict y.")
    return public
