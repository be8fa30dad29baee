"""--output is checked before the search and copied last; failures are one line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlmaster.journal.output import OutputError, check_output, export_submission


def test_a_writable_file_path_passes_and_leaves_nothing(tmp_path: Path) -> None:
    check_output(tmp_path / "submission.csv")
    check_output(tmp_path / "new" / "deeper" / "submission.csv")  # folders made at the end
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_may_be_replaced(tmp_path: Path) -> None:
    (tmp_path / "submission.csv").write_text("old")
    check_output(tmp_path / "submission.csv")


def test_a_folder_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"is a folder; give a file path, e\.g\. .*submission"):
        check_output(tmp_path)


def test_messages_name_the_setting_for_flag_and_environment_users(tmp_path: Path) -> None:
    # The path may come from --output, MLMASTER_RUN__OUTPUT or a profile: name both forms.
    with pytest.raises(OutputError) as failed:
        check_output(tmp_path)
    assert str(failed.value).startswith(f"--output (run.output) {tmp_path} is a folder")
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError) as copy_failed:
        export_submission(tmp_path / "file", tmp_path / "file" / "submission.csv")
    assert "(--output (run.output))" in str(copy_failed.value)


def test_a_path_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="is not a folder"):
        check_output(tmp_path / "file" / "submission.csv")
    with pytest.raises(OutputError, match="is not a folder"):
        check_output(tmp_path / "file" / "more" / "submission.csv")


def test_a_folder_nobody_may_write_is_refused() -> None:
    # /proc refuses new files even to root, who passes every permission check.
    with pytest.raises(OutputError, match="cannot write in /proc"):
        check_output(Path("/proc/submission.csv"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits")
def test_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    with pytest.raises(OutputError, match="cannot write in"):
        check_output(folder / "submission.csv")


def test_the_copy_is_whole_and_replaces(tmp_path: Path) -> None:
    source = tmp_path / "best.csv"
    source.write_text("id,y\n1,2\n")
    output = tmp_path / "out" / "submission.csv"
    export_submission(source, output)
    assert output.read_text() == "id,y\n1,2\n"
    source.write_text("id,y\n1,3\n")
    export_submission(source, output)
    assert output.read_text() == "id,y\n1,3\n"
    assert sorted(p.name for p in output.parent.iterdir()) == ["submission.csv"]


def test_a_failed_copy_is_one_line_saying_where_the_submission_is(tmp_path: Path) -> None:
    source = tmp_path / "best.csv"
    source.write_text("id,y\n")
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError) as failed:
        export_submission(source, tmp_path / "file" / "submission.csv")
    message = str(failed.value)
    assert "could not copy the best submission to" in message
    assert f"it is in {source}" in message and "\n" not in message
