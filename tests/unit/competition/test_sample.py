"""find_sample: the sample submission of any public folder, by name, pattern, archive, or none."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from mlmaster.competition.sample import describe_sample, find_sample


def _folder(tmp_path: Path, *files: str) -> Path:
    public = tmp_path / "public"
    public.mkdir()
    for name in files:
        (public / name).write_text("id,target\n1,0\n")
    return public


@pytest.mark.parametrize(
    ("files", "chosen"),
    [
        (["train.csv", "sample_submission.csv"], "sample_submission.csv"),
        (["sampleSubmission.csv", "train.zip"], "sampleSubmission.csv"),
        (["kaggle_sample_submission.csv", "train2019.json"], "kaggle_sample_submission.csv"),
        (["sample_submission_null.csv", "test.csv"], "sample_submission_null.csv"),
        (["training.csv", "test.csv", "randomPredictions.csv"], "randomPredictions.csv"),
        (["my_submission.csv", "train.csv"], "my_submission.csv"),
    ],
)
def test_csv_found_by_name_or_pattern(tmp_path: Path, files: list[str], chosen: str) -> None:
    sample = find_sample(_folder(tmp_path, *files))
    assert (sample.file, sample.columns, sample.in_archive) == (chosen, ["id", "target"], False)
    assert f"./input/{chosen}" in sample.describe()


def test_inside_a_zip_the_member_and_header_are_read(tmp_path: Path) -> None:
    public = _folder(tmp_path, "en_train.csv.zip")
    with zipfile.ZipFile(public / "en_sample_submission_2.csv.zip", "w") as archive:
        archive.writestr("en_sample_submission_2.csv", "id,after\n0_0,x\n")
    sample = find_sample(public)
    assert sample.file == "en_sample_submission_2.csv.zip"
    assert (sample.member, sample.columns) == ("en_sample_submission_2.csv", ["id", "after"])
    assert "only inside the archive ./input/en_sample_submission_2.csv.zip" in sample.describe()


def test_inside_a_gzip(tmp_path: Path) -> None:
    public = _folder(tmp_path)
    with gzip.open(public / "sample_submission.csv.gz", "wb") as stream:
        stream.write(b"key,value\n1,2\n")
    assert find_sample(public).columns == ["key", "value"]


def test_a_7z_is_named_and_said_unreadable(tmp_path: Path) -> None:
    public = _folder(tmp_path)
    (public / "sample_submission.csv.7z").write_bytes(b"7z\xbc\xaf\x27\x1c junk")
    (public / "train.json.7z").write_bytes(b"7z")
    sample = find_sample(public)
    assert (sample.file, sample.columns) == ("sample_submission.csv.7z", None)
    text = sample.describe()
    assert "./input/sample_submission.csv.7z" in text and "7z archive" in text
    assert "task description" in text
    assert describe_sample("sample_submission.csv.7z", "sample_submission.csv") == text


def test_none_is_said_plainly(tmp_path: Path) -> None:
    public = _folder(tmp_path)
    (public / "train_v2.txt.zip").write_bytes(b"PK")
    sample = find_sample(public)
    assert not sample.found
    assert "no sample submission" in sample.describe()


def test_a_link_out_of_the_folder_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("answer,key\n1,2\n")
    public = _folder(tmp_path)
    (public / "sample_submission.csv").symlink_to(secret)
    assert not find_sample(public).found
