"""prune_working: a finished node's working/ goes when large; links are never followed."""

from __future__ import annotations

from pathlib import Path

from mlmaster.execution.pruning import folder_size, prune_working


def test_a_large_working_folder_is_deleted_and_a_small_one_kept(tmp_path: Path) -> None:
    big, small = tmp_path / "big" / "working", tmp_path / "small" / "working"
    (big / "extracted").mkdir(parents=True)
    (big / "extracted" / "images.bin").write_bytes(b"x" * 5000)
    small.mkdir(parents=True)
    (small / "notes.txt").write_bytes(b"x" * 10)
    assert prune_working(big, keep_under=1000) == 5000 and not big.exists()
    assert prune_working(small, keep_under=1000) is None and (small / "notes.txt").exists()


def test_links_are_neither_counted_nor_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.bin").write_bytes(b"y" * 5000)
    working = tmp_path / "node" / "working"
    working.mkdir(parents=True)
    (working / "data").symlink_to(outside, target_is_directory=True)
    (working / "file").symlink_to(outside / "precious.bin")
    (working / "own.bin").write_bytes(b"z" * 2000)
    assert folder_size(working) == 2000
    assert prune_working(working, keep_under=1000) == 2000
    assert not working.exists() and (outside / "precious.bin").stat().st_size == 5000


def test_a_working_folder_that_is_a_link_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "a.bin").write_bytes(b"a" * 5000)
    link = tmp_path / "working"
    link.symlink_to(target, target_is_directory=True)
    assert prune_working(link, keep_under=1) is None
    assert (target / "a.bin").exists()
