"""data_preview: any public folder, bounded, never through a link that leaves it."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from mlebench_layouts import jpeg, npy, png, wav
from mlmaster.preview import data_preview
from mlmaster.preview.media import describe_media
from mlmaster.preview.walk import scan


def test_lists_files_columns_types_and_missing(public_dir: Path) -> None:
    text = data_preview(public_dir)
    assert "train.csv" in text and "test.csv" in text and "description.md" in text
    assert "x (float64, 1 missing" in text
    assert "city (" in text and "Oslo" in text
    assert "3 rows" in text


def test_is_capped_and_reads_only_the_first_rows(tmp_path: Path) -> None:
    wide = ",".join(f"column_{i}" for i in range(200))
    rows = "\n".join(",".join(str(i * j) for j in range(200)) for i in range(50))
    (tmp_path / "big.csv").write_text(wide + "\n" + rows + "\n")
    text = data_preview(tmp_path, max_chars=1500, rows=10)
    assert len(text) <= 1500
    assert "first 10 rows read" in text


def test_a_missing_folder_says_so(tmp_path: Path) -> None:
    assert "no data directory" in data_preview(tmp_path / "nope")


def test_links_leaving_the_folder_are_skipped_and_counted(
    public_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = tmp_path / "private"
    secret.mkdir()
    (secret / "answers.csv").write_text("id,SECRET_COLUMN\n1,42\n")
    (public_dir / "answers.csv").symlink_to(secret / "answers.csv")
    (public_dir / "private").symlink_to(secret, target_is_directory=True)
    (public_dir / "train_link.csv").symlink_to(public_dir / "train.csv")  # inside: kept
    text = data_preview(public_dir)
    assert "SECRET_COLUMN" not in text and "answers.csv" not in text
    assert "2 links leaving the folder were skipped" in text
    assert "train_link.csv" in text


def test_folders_show_counts_examples_and_a_sample_shape(tmp_path: Path) -> None:
    public = tmp_path / "public"
    for folder, name, data in [
        ("train_images", "a.png", png(32, 24)),
        ("test_images", "b.jpg", jpeg(640, 480)),
        ("audio/yes", "c.wav", wav(1.0, 16000)),
        ("bands", "d.npy", npy()),
    ]:
        (public / folder).mkdir(parents=True)
        for i in range(3):
            (public / folder / f"{i}_{name}").write_bytes(data)
    text = data_preview(public)
    assert "train_images/ (3 files" in text and "3 .png" in text
    assert "image 32x24 RGB" in text and "image 640x480 RGB" in text
    assert "audio 1.00 s, 16000 Hz, 1 channel" in text
    assert "array (8, 8) <f4" in text
    assert "e.g. 0_a.png, 1_a.png, 2_a.png" in text


def test_archives_are_listed_and_a_csv_inside_a_zip_previewed(tmp_path: Path) -> None:
    public = tmp_path / "public"
    public.mkdir()
    with zipfile.ZipFile(public / "train.zip", "w") as archive:
        archive.writestr("train/labels.csv", "image,label\nx.png,cat\ny.png,dog\n")
        for i in range(4):
            archive.writestr(f"train/{i}.png", png(8, 8))
    with tarfile.open(public / "test.tar.gz", "w:gz") as tar:
        data = jpeg()
        for i in range(3):
            info = tarfile.TarInfo(f"test/{i}.jpg")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (public / "extra.json.7z").write_bytes(b"7z\xbc\xaf\x27\x1c")
    with gzip.open(public / "big.csv.gz", "wb") as stream:
        stream.write(b"a,b\n1,2\n")
    text = data_preview(public)
    assert "extract them under ./working" in text
    assert "zip: 5 files (4 .png, 1 .csv)" in text and "image 8x8 RGB" in text
    assert "train.zip/train/labels.csv: 2 columns" in text and "cat" in text
    assert "tar: 3 files (3 .jpg)" in text
    assert "extra.json.7z" in text and "not opened" in text


def test_json_and_jsonl_are_described(tmp_path: Path) -> None:
    (tmp_path / "train.json").write_text(json.dumps([{"id": 1, "band_1": [0.1] * 50}]))
    (tmp_path / "test.jsonl").write_text('{"id": 1, "text": "hello"}\n{"id": 2, "text": "x"}\n')
    text = data_preview(tmp_path)
    assert "train.json: JSON list of 1 of object {id: int 1; band_1: list of 50}" in text
    assert "test.jsonl: JSON Lines, first 2 records read" in text and "hello" in text


def test_a_huge_folder_is_scanned_within_bounds(tmp_path: Path) -> None:
    for i in range(50):
        (tmp_path / f"{i:03d}.txt").write_text("x")
    result = scan(tmp_path, max_entries=20)
    assert result.truncated and result.root.files == 20


def test_unreadable_media_is_no_shape(tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"\x89PNG junk")
    assert describe_media(tmp_path / "broken.png") is None


def test_a_tar_is_listed_from_its_first_members_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlmaster.preview.archives as archives

    monkeypatch.setattr(archives, "TAR_BYTES", 1000)
    with tarfile.open(tmp_path / "videos.tar.gz", "w:gz") as tar:
        for i in range(5):
            data = b"v" * 800
            info = tarfile.TarInfo(f"videos/{i}.mp4")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert "tar: first 2 files (2 .mp4)" in data_preview(tmp_path)
