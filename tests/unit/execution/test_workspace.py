"""Workspace layout: public data linked, never copied."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlmaster.errors import UserError
from mlmaster.execution.workspace import Workspace


def test_layout_and_link(tmp_path: Path):
    public = tmp_path / "comp" / "prepared" / "public"
    public.mkdir(parents=True)
    (public / "train.csv").write_text("a\n1\n")
    ws = Workspace.create(tmp_path / "nodes" / "n1", public)
    assert ws.input_dir.is_symlink() and ws.input_dir.resolve() == public.resolve()
    assert (ws.input_dir / "train.csv").read_text() == "a\n1\n"
    assert ws.working_dir.is_dir() and ws.submission_dir.is_dir()
    assert ws.kept_submission == tmp_path / "nodes" / "submission.csv"
    script = ws.write_script("print(1)\n")
    assert script.read_text() == "print(1)\n" and script.parent == ws.root
    # Creating it again is harmless (a resumed run reuses node folders).
    again = Workspace.create(tmp_path / "nodes" / "n1", public)
    assert again == ws


def test_missing_public_data_is_a_clear_error(tmp_path: Path):
    with pytest.raises(UserError, match="does not exist"):
        Workspace.create(tmp_path / "n", tmp_path / "nowhere")


def test_a_real_input_folder_is_refused(tmp_path: Path):
    public = tmp_path / "public"
    public.mkdir()
    (tmp_path / "n" / "input").mkdir(parents=True)
    with pytest.raises(UserError, match="real folder"):
        Workspace.create(tmp_path / "n", public)
