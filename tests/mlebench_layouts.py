"""Fake MLE-bench public folders: the real names and shapes of all 75 competitions, tiny files.

``tests/fixtures/mlebench-layouts.json`` lists, per competition, the files and folders
``mlebench prepare`` leaves in ``prepared/public`` (names exactly as written), the sample
submission's name and header (or its absence), the archives and what they hold, and the
grader's metric. :func:`build_public` writes a folder with those names: CSVs with the real
header where known, real (tiny) zip, tar.gz, PNG, JPEG, WAV and NPY files, and opaque bytes for
the formats nothing here reads (7z, bson, tfrec, dcm, ...).
"""

from __future__ import annotations

import io
import json
import re
import struct
import tarfile
import wave
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

LAYOUTS = Path(__file__).parent / "fixtures" / "mlebench-layouts.json"
ROWS = 6


_KNOWN = re.compile(
    r"\.(jpg|jpeg|png|wav|npy|csv|json|tiff|tif|dcm|dicom|parquet|xyz|mp4|nii|tfrec|aif|bmp|txt)\b"
)


def competitions() -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads(LAYOUTS.read_text())
    return list(data["competitions"])


def png(width: int = 4, height: int = 3) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * 3 * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg(width: int = 5, height: int = 7) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x11\x00" * 3
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(seconds * rate))
    return buffer.getvalue()


def npy() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((8, 8), dtype=np.float32))
    return buffer.getvalue()


def file_bytes(name: str) -> bytes:
    """Tiny content a reader of ``name``'s kind accepts (or opaque bytes for unread kinds)."""
    lower = name.lower()
    if lower.endswith(".png"):
        return png()
    if lower.endswith((".jpg", ".jpeg")):
        return jpeg()
    if lower.endswith(".wav"):
        return wav()
    if lower.endswith(".npy"):
        return npy()
    if lower.endswith(".csv"):
        return b"id,value\n" + b"".join(f"{i},{i * 0.5}\n".encode() for i in range(ROWS))
    if lower.endswith(".json"):
        return json.dumps(
            [{"id": i, "text": f"row {i}", "values": [i, i]} for i in range(3)]
        ).encode()
    if lower.endswith(".jsonl"):
        return b"".join(
            json.dumps({"id": i, "text": f"doc {i}"}).encode() + b"\n" for i in range(3)
        )
    if lower.endswith(".7z"):
        return b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24
    return b"\x00opaque\x00"


def _sample_csv(layout: dict[str, Any]) -> bytes:
    columns = list(layout["sample_submission_columns"] or ["id", "prediction"])
    classes = layout.get("sample_submission_class_columns")
    if classes:
        columns += [
            classes["first"],
            *(f"class_{i}" for i in range(classes["count"] - 2)),
            classes["last"],
        ]
    id_column = layout.get("id_column") or columns[0]
    lines = [",".join(_quote(c) for c in columns)]
    for i in range(ROWS):
        values = [f"{id_column}_{i}" if c == columns[0] else "0.5" for c in columns]
        lines.append(",".join(values))
    return ("\n".join(lines) + "\n").encode()


def _quote(name: str) -> str:
    return f'"{name}"' if "," in name else name


def _members(description: str, archive: str) -> list[str]:
    """Member names an archive holds, read off "train.zip (*.jpg)" or "x.zip (x.csv)"."""
    inside = re.search(r"\((.*)\)", description)
    stem = archive.split(".")[0]
    if inside is None:
        return [f"{stem}/file_0.bin"]
    text = inside.group(1)
    if star := re.search(r"\*\.(\w+)", text):
        return [f"{stem}/sample_{i}.{star.group(1)}" for i in range(2)]
    return [part.strip().split()[0] for part in text.split(",") if "." in part][:2] or [
        f"{stem}.bin"
    ]


def _archive(
    path: Path, members: list[str], sample: bytes | None, header: str | None = None
) -> None:
    name = path.name.lower()
    contents = {
        m: sample if sample is not None and "sample" in m else file_bytes(m) for m in members
    }
    if header is not None:  # "test_v2.txt.zip (test_v2.txt, header id,sentence)"
        rows = "".join(f"{i},row {i}\n" for i in range(ROWS))
        contents = {m: f"{header}\n{rows}".encode() for m in members}
    if name.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as archive:
            for member, data in contents.items():
                archive.writestr(member, data)
    elif name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(path, "w:gz" if name.endswith("gz") else "w") as archive:
            for member, data in contents.items():
                info = tarfile.TarInfo(member)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    else:
        path.write_bytes(file_bytes(path.name))


def description(layout: dict[str, Any]) -> str:
    text = (
        f"# {layout['id']}\n\n## Evaluation\n\nSubmissions are evaluated on {layout['metric']}.\n"
    )
    if layout["sample_submission"] is None and layout["sample_submission_columns"]:
        text += (
            "\n## Submission File\n\n```\n"
            + ",".join(layout["sample_submission_columns"])
            + "\n```\n"
        )
    return text


def build_public(layout: dict[str, Any], public: Path) -> Path:
    """Write ``layout``'s public folder into ``public`` (created)."""
    public.mkdir(parents=True)
    (public / "description.md").write_text(description(layout))
    sample_name = layout["sample_submission"]
    sample = _sample_csv(layout)
    archives = {entry.split(" ")[0]: entry for entry in layout["public_archives"]}
    for name in layout["public_files"]:
        path = public / name
        lower = name.lower()
        if name == sample_name and not layout["sample_submission_in_archive"]:
            path.write_bytes(sample)
        elif lower.endswith((".zip", ".tar.gz", ".tgz", ".tar")):
            members = _members(archives.get(name, name), name)
            if name == sample_name:
                members = [name.rsplit(".", 1)[0]]
            named = re.search(r"header (\S+?)\)", archives.get(name, ""))
            header = named.group(1) if named else None
            _archive(path, members, sample if name == sample_name else None, header)
        else:
            path.write_bytes(file_bytes(name))
    for folder in layout["public_folders"]:
        target = public / folder["path"]
        target.mkdir(parents=True, exist_ok=True)
        known = _KNOWN.search(folder["contains"])
        extension = known.group(1) if known else "bin"
        nested = "<" in folder["contains"].split("*")[0]
        where = target / "group_0" if nested else target
        where.mkdir(parents=True, exist_ok=True)
        for i in range(2):
            (where / f"item_{i}.{extension}").write_bytes(file_bytes(f"x.{extension}"))
    return public
