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


def test_working_size_and_discard_follow_no_link(tmp_path: Path):
    public = tmp_path / "public"
    public.mkdir()
    (public / "train.csv").write_text("x" * 10_000)
    elsewhere = tmp_path / "keep.bin"
    elsewhere.write_bytes(b"y" * 50_000)
    ws = Workspace.create(tmp_path / "nodes" / "n1" / "workspace", public)
    (ws.working_dir / "model.bin").write_bytes(b"z" * 300)
    (ws.working_dir / "deep").mkdir()
    (ws.working_dir / "deep" / "part.bin").write_bytes(b"z" * 200)
    (ws.working_dir / "to-file").symlink_to(elsewhere)
    (ws.working_dir / "to-data").symlink_to(public, target_is_directory=True)
    assert ws.working_bytes() == 500
    ws.discard_working()
    assert not ws.working_dir.exists()
    assert elsewhere.read_bytes() == b"y" * 50_000
    assert (public / "train.csv").stat().st_size == 10_000
    assert ws.working_bytes() == 0


def test_a_working_folder_replaced_by_a_link_is_unlinked_not_emptied(tmp_path: Path):
    public = tmp_path / "public"
    public.mkdir()
    (public / "train.csv").write_text("id\n")
    ws = Workspace.create(tmp_path / "n", public)
    ws.working_dir.rmdir()
    ws.working_dir.symlink_to(public, target_is_directory=True)
    assert ws.working_bytes() == 0
    ws.discard_working()
    assert not ws.working_dir.is_symlink() and (public / "train.csv").exists()
