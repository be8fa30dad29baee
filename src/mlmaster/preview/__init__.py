"""A bounded preview of a competition's public folder, for prompts: files first, then tables.

Any folder shape: files and folders with counts and sizes by extension and sample names, the
shape of a sample image, sound or array, archives listed with their members, and previews of
CSV/TSV/parquet/JSON/JSONL files (CSVs inside zip archives too). Bounded three ways: entries
scanned, rows read per table, characters of text. Links leaving the folder are never followed.
It reads files: call it from a thread (``anyio.to_thread.run_sync``).
"""

from __future__ import annotations

from pathlib import Path

from mlmaster.preview.archives import describe_archive, human_size, is_archive
from mlmaster.preview.media import MEDIA_EXTENSIONS, describe_media
from mlmaster.preview.tables import SAMPLE_ROWS, TABLE_EXTENSIONS, preview_table
from mlmaster.preview.walk import Folder, extension, first_file, scan

__all__ = ["data_preview"]

MAX_CHARS = 8000
ROOT_FILES = 30  # files of the top folder listed one by one
SUBFOLDERS = 12  # subfolders listed per folder (else the first few and a count)
TREE_DEPTH = 2  # folder levels shown below the top
MAX_TABLES = 8
ARCHIVE_NOTE = (
    "./input is read-only: read archives in place (zipfile, tarfile, pandas) or extract them "
    "under ./working"
)


def data_preview(public_dir: Path, *, max_chars: int = MAX_CHARS, rows: int = SAMPLE_ROWS) -> str:
    """The file tree and table previews of ``public_dir``, at most ``max_chars`` characters."""
    public_dir = Path(public_dir)
    if not public_dir.is_dir():
        return f"(no data directory at {public_dir})"
    result = scan(public_dir)
    root = result.root
    tables: list[list[str]] = []
    header = f"Files in ./input ({root.files} files, {human_size(root.size)})"
    if any(is_archive(name) for name, _ in _all_files(root)):
        header += f"; {ARCHIVE_NOTE}"
    lines = [header + ":"]
    for name, size in root.direct[:ROOT_FILES]:
        line = f"  {name} ({human_size(size)})"
        if is_archive(name):
            listing, table_lines = describe_archive(public_dir / name, rows=rows)
            line += f": {listing}"
            tables.append(table_lines)
        lines.append(line)
    if len(root.direct) > ROOT_FILES:
        lines.append(f"  ... and {len(root.direct) - ROOT_FILES} more files")
    lines.extend(_folders(public_dir, root.folders, depth=1))
    if result.truncated:
        lines.append("  (the scan stopped early: counts cover only the files seen)")
    if result.skipped_links:
        lines.append(f"  ({result.skipped_links} links leaving the folder were skipped)")

    previews = _table_previews(public_dir, root, rows) + tables
    text = "\n".join(lines) + "\n"
    if previews:
        text += "\n" + "\n\n".join("\n".join(p) for p in previews if p) + "\n"
    if len(text) > max_chars:
        text = text[: max_chars - 20].rsplit("\n", 1)[0] + "\n... (preview cut)\n"
    return text


def _folders(public_dir: Path, folders: list[Folder], depth: int) -> list[str]:
    lines: list[str] = []
    shown = folders if len(folders) <= SUBFOLDERS else folders[:3]
    indent = "  " * depth
    for folder in shown:
        lines.append(f"{indent}{_folder_line(public_dir, folder)}")
        if depth < TREE_DEPTH:
            lines.extend(_folders(public_dir, folder.folders, depth + 1))
    if len(shown) < len(folders):
        rest = folders[len(shown) :]
        files = sum(f.files for f in rest)
        lines.append(f"{indent}... and {len(rest)} more folders like these ({files} files)")
    return lines


def _folder_line(public_dir: Path, folder: Folder) -> str:
    name = folder.name.rsplit("/", 1)[-1]
    kinds = ", ".join(f"{n} {ext}" for ext, n in folder.by_extension.most_common(4))
    text = f"{name}/ ({folder.files} files, {human_size(folder.size)}"
    text += f": {kinds}" if kinds else ""
    if folder.direct:
        examples = ", ".join(n for n, _ in folder.direct[:3])
        text += f"; e.g. {examples}"
    sample = first_file(folder, MEDIA_EXTENSIONS)
    if sample is not None and (shape := describe_media(public_dir / sample)):
        text += f"; {sample.rsplit('/', 1)[-1]}: {shape}"
    return text + ")"


def _all_files(folder: Folder) -> list[tuple[str, int]]:
    found = list(folder.direct)
    for child in folder.folders:
        found.extend(_all_files(child))
    return found


def _table_rank(name: str) -> tuple[int, str]:
    lower = name.lower()
    if "submission" in lower or "sample" in lower:
        return 0, lower
    if lower.startswith("train"):
        return 1, lower
    if lower.startswith("test"):
        return 2, lower
    return 3, lower


def _table_previews(public_dir: Path, root: Folder, rows: int) -> list[list[str]]:
    """Top-level tables, then the first table of each folder of tables (one of many)."""
    chosen: list[tuple[str, int, str]] = []
    # The sample submission first, then training and test tables: what a solution needs most.
    for name, size in sorted(root.direct, key=lambda entry: _table_rank(entry[0])):
        if extension(name) in TABLE_EXTENSIONS:
            chosen.append((name, size, name))

    def folders_of_tables(folder: Folder) -> None:
        tables = [(n, s) for n, s in folder.direct if extension(n) in TABLE_EXTENSIONS]
        if tables:
            name, size = tables[0]
            label = f"{folder.name}/{name}" + (
                f" (one of {len(tables)} in {folder.name}/)" if len(tables) > 1 else ""
            )
            chosen.append((f"{folder.name}/{name}", size, label))
        for child in folder.folders[:SUBFOLDERS]:
            if len(chosen) < MAX_TABLES:
                folders_of_tables(child)

    for folder in root.folders:
        folders_of_tables(folder)
    return [
        preview_table(label, public_dir / relative, size=size, rows=rows)
        for relative, size, label in chosen[:MAX_TABLES]
    ]
