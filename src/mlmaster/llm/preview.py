"""A short preview of a competition's public data, for prompts.

File tree first, then per CSV its columns with dtype, missing values and a few example values.
Only the first rows of each CSV are read (a preview must stay cheap on multi-GB files), and the
whole text is capped. It reads files: call it from a thread (``anyio.to_thread.run_sync``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

MAX_CHARS = 6000
SAMPLE_ROWS = 1000
FILES_PER_DIR = 8
MAX_COLUMNS = 30
MAX_CSVS = 6


def _size(path: Path) -> str:
    size = float(path.stat().st_size)
    for unit in ("B", "kB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def file_tree(root: Path, *, files_per_dir: int = FILES_PER_DIR) -> list[str]:
    lines: list[str] = []

    def walk(folder: Path, depth: int) -> None:
        entries = sorted(folder.iterdir(), key=lambda p: (p.is_file(), p.name))
        dirs = [p for p in entries if p.is_dir()]
        files = [p for p in entries if p.is_file()]
        indent = "  " * depth
        for sub in dirs[:20]:
            count = sum(1 for _ in sub.rglob("*") if _.is_file())
            lines.append(f"{indent}{sub.name}/ ({count} files)")
            if depth < 2:
                walk(sub, depth + 1)
        for file in files[:files_per_dir]:
            lines.append(f"{indent}{file.name} ({_size(file)})")
        if len(files) > files_per_dir:
            lines.append(f"{indent}... and {len(files) - files_per_dir} more files")

    walk(root, 0)
    return lines


def _example_values(series: pd.Series) -> str:
    values = series.dropna().unique()[:4]
    shown = []
    for value in values:
        text = str(value)
        shown.append(text if len(text) <= 30 else text[:27] + "...")
    return ", ".join(shown)


def csv_summary(
    path: Path, *, rows: int = SAMPLE_ROWS, max_columns: int = MAX_COLUMNS
) -> list[str]:
    try:
        frame = pd.read_csv(path, nrows=rows)
    except Exception as error:  # a preview never fails a run: say what could not be read
        return [f"{path.name}: could not be read as CSV ({type(error).__name__})"]
    header = f"{path.name}: {len(frame.columns)} columns"
    header += f", first {len(frame)} rows read" if len(frame) == rows else f", {len(frame)} rows"
    lines = [header]
    for name in list(frame.columns)[:max_columns]:
        column = frame[name]
        missing = int(column.isna().sum())
        lines.append(
            f"  {name} ({column.dtype}, {missing} missing, {column.nunique()} unique): "
            f"{_example_values(column)}"
        )
    if len(frame.columns) > max_columns:
        lines.append(f"  ... and {len(frame.columns) - max_columns} more columns")
    return lines


def data_preview(public_dir: Path, *, max_chars: int = MAX_CHARS, rows: int = SAMPLE_ROWS) -> str:
    """File tree and per-CSV summary of ``public_dir``, at most ``max_chars`` characters."""
    public_dir = Path(public_dir)
    if not public_dir.is_dir():
        return f"(no data directory at {public_dir})"
    lines = ["Files in ./input:", *("  " + line for line in file_tree(public_dir)), ""]
    csvs = sorted(public_dir.rglob("*.csv"), key=lambda p: (len(p.parts), p.name))
    for path in csvs[:MAX_CSVS]:
        lines.extend(csv_summary(path, rows=rows))
        lines.append("")
    text = "\n".join(lines).strip() + "\n"
    if len(text) > max_chars:
        text = text[: max_chars - 20].rsplit("\n", 1)[0] + "\n... (preview cut)\n"
    return text
