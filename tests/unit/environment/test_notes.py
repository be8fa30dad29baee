"""MLE-bench's notes for agents, made the script's own and put before the description."""

from __future__ import annotations

from pathlib import Path

from mlmaster.environment.notes import benchmark_notes, with_notes

NOTES = """You are participating in MLE-bench, an offline version of Kaggle competitions.
The dataset is in /home/data/. You MUST write your submission to /home/submission/submission.csv.
Competition instructions are in /home/data/description.md.
"""


def test_container_paths_become_the_scripts_own(tmp_path: Path) -> None:
    path = tmp_path / "instructions.txt"
    path.write_text(NOTES)
    notes = benchmark_notes(path)
    assert notes is not None
    assert "./input/" in notes and "./submission/submission.csv" in notes
    assert "/home/" not in notes


def test_notes_come_first_and_an_absent_file_changes_nothing(tmp_path: Path) -> None:
    assert benchmark_notes(tmp_path / "absent.txt") is None and benchmark_notes(None) is None
    assert with_notes("# Spooky\nPredict.", None) == "# Spooky\nPredict."
    text = with_notes("# Spooky\nPredict.", "Benchmark rules.")
    assert text.index("Benchmark rules.") < text.index("# Competition instructions")
    assert text.endswith("# Spooky\nPredict.")
