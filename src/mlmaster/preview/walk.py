"""A bounded scan of a public folder: per folder, how many files of which kind, how big.

The scan never follows a link out of the folder (a public folder may hold links; what they
point at is no part of the competition, and may be anything on the host): such links are
skipped, counted, and warned about once. Links inside the folder count as files and are not
descended into (no cycles). At most ``max_entries`` entries are visited, so a folder of
millions of files costs a bounded time; the summary then says it stopped early.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mlmaster.logs import get_logger

log = get_logger(__name__)

MAX_ENTRIES = 200_000


@dataclass
class Folder:
    """One folder's summary; counts include every file below it."""

    name: str  # relative to the scanned root, "" for the root itself
    files: int = 0
    size: int = 0
    by_extension: Counter[str] = field(default_factory=Counter)
    direct: list[tuple[str, int]] = field(default_factory=list)  # (name, size) of its own files
    folders: list[Folder] = field(default_factory=list)


@dataclass
class Scan:
    root: Folder
    skipped_links: int = 0  # links that leave the folder, never followed
    truncated: bool = False  # stopped after max_entries


def extension(name: str) -> str:
    """``.csv``, ``.tar.gz``, ``.csv.zip``: the double ones that say what an archive holds."""
    lower = name.lower()
    for double in (".tar.gz", ".tar.bz2", ".tar.xz", ".csv.zip", ".csv.7z", ".csv.gz"):
        if lower.endswith(double):
            return double
    return os.path.splitext(lower)[1] or "(no extension)"


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, with every link resolved, is within ``root`` (itself resolved)."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a link loop
        return False


def scan(root: Path, *, max_entries: int = MAX_ENTRIES) -> Scan:
    """Summarise ``root`` without following links that leave it."""
    real_root = root.resolve()
    result = Scan(root=Folder(name=""))
    budget = [max_entries]

    def visit(folder: Path, summary: Folder) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if budget[0] <= 0:
                result.truncated = True
                return
            budget[0] -= 1
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if entry.is_symlink():
                if not inside(path, real_root):
                    result.skipped_links += 1
                    continue
                if not path.is_file():
                    continue  # a link to a folder inside: already counted where it lives
            relative = path.relative_to(root).as_posix()
            if entry.is_dir(follow_symlinks=False):
                child = Folder(name=relative)
                visit(path, child)
                summary.folders.append(child)
                summary.files += child.files
                summary.size += child.size
                summary.by_extension.update(child.by_extension)
            elif entry.is_file():
                try:
                    size = entry.stat().st_size
                except OSError:
                    continue
                summary.files += 1
                summary.size += size
                summary.by_extension[extension(entry.name)] += 1
                summary.direct.append((entry.name, size))

    visit(root, result.root)
    if result.skipped_links:
        log.warning(
            "links leaving the public folder were skipped",
            folder=str(root),
            count=result.skipped_links,
        )
    return result


def first_file(folder: Folder, extensions: set[str]) -> str | None:
    """The first file (by name, depth first) below ``folder`` with one of ``extensions``."""
    for name, _ in folder.direct:
        if extension(name) in extensions:
            return f"{folder.name}/{name}" if folder.name else name
    for child in folder.folders:
        if found := first_file(child, extensions):
            return found
    return None
