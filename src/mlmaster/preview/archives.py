"""What an archive in the public folder holds, listed without extracting it.

The public folder is read-only, and scripts must read archives in place or extract them under
``./working``; the prompt says so, and this says what they will find inside. Zip archives are
listed whole (their directory is at the end, cheap to read), with a preview of the first table
inside and the shape of the first image or sound; tar archives are listed from their first
members only (reading further means decompressing the stream); 7z is named, not opened (no
reader is installed).
"""

from __future__ import annotations

import tarfile
import zipfile
from collections import Counter
from pathlib import Path

from mlmaster.preview.media import MEDIA_EXTENSIONS, describe_stream
from mlmaster.preview.tables import TABLE_EXTENSIONS, preview_table
from mlmaster.preview.walk import extension

TAR_MEMBERS = 100  # members read off the start of a tar stream
# Reaching the next member's header means decompressing the one before: stop after this many
# bytes of members, so one multi-GB video at the front costs no minutes of start-up.
TAR_BYTES = 64 * 1024**2
ARCHIVE_EXTENSIONS = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".7z", ".gz")


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_EXTENSIONS)


def describe_archive(path: Path, *, rows: int) -> tuple[str, list[str]]:
    """A one-line listing of ``path``'s members, and preview lines of a table inside it."""
    lower = path.name.lower()
    try:
        if lower.endswith(".zip"):
            return _zip(path, rows)
        if lower.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
            return _tar(path), []
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
        return f"archive that could not be read ({type(error).__name__})", []
    if lower.endswith(".7z"):
        return "7z archive, not opened (no 7z reader is installed)", []
    return f"gzip-compressed {path.name[:-3]} (pandas reads it directly)", []


def _listing(names: list[str], sizes: list[int], *, complete: bool) -> str:
    files = [n for n in names if not n.endswith("/")]
    kinds = Counter(extension(n) for n in files)
    counted = ", ".join(f"{count} {ext}" for ext, count in kinds.most_common(5))
    plural = "" if len(files) == 1 else "s"
    scope = f"{len(files)} file{plural}" if complete else f"first {len(files)} files"
    examples = ", ".join(files[:3])
    total = f", {human_size(sum(sizes))} unpacked" if complete and sizes else ""
    return f"{scope} ({counted}){total}; e.g. {examples}"


def _zip(path: Path, rows: int) -> tuple[str, list[str]]:
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        names = [i.filename for i in infos]
        line = "zip: " + _listing(names, [i.file_size for i in infos], complete=True)
        media = next(
            (i for i in infos if extension(i.filename) in MEDIA_EXTENSIONS and not i.is_dir()),
            None,
        )
        if media is not None:
            with archive.open(media) as stream:
                shape = describe_stream(extension(media.filename), stream)
            if shape:
                line += f"; {media.filename}: {shape}"
        table = next((i for i in infos if extension(i.filename) in TABLE_EXTENSIONS), None)
        if table is None:
            return line, []
        with archive.open(table) as stream:
            label = f"{path.name}/{table.filename}"
            return line, preview_table(label, stream, size=table.file_size, rows=rows)


def _tar(path: Path) -> str:
    names: list[str] = []
    sizes: list[int] = []
    complete = True
    with tarfile.open(path, mode="r|*") as archive:
        for member in archive:
            if len(names) >= TAR_MEMBERS:
                complete = False
                break
            names.append(member.name + ("/" if member.isdir() else ""))
            sizes.append(member.size)
            if sum(sizes) > TAR_BYTES:
                complete = False
                break
    return "tar: " + _listing(names, sizes, complete=complete)


def human_size(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
