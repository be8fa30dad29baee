"""Previews of table-like files: CSV/TSV, parquet, JSON and JSON Lines.

Only the first rows of a table are read (a preview must stay cheap on multi-GB files); a JSON
document is parsed whole only when small, else described from its first bytes. Parquet needs
pyarrow, used when installed. Every reader takes a path or an open binary stream (a member of
a zip archive), and any failure becomes a line saying what could not be read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

import pandas as pd

SAMPLE_ROWS = 1000
MAX_COLUMNS = 30
JSON_WHOLE_BYTES = 20 * 1024**2  # parse a JSON document whole below this size
JSON_HEAD_BYTES = 4096
JSONL_LINES = 200

TABLE_EXTENSIONS = {".csv", ".tsv", ".parquet", ".json", ".jsonl"}


def preview_table(
    name: str,
    source: Path | IO[bytes],
    *,
    size: int | None = None,
    rows: int = SAMPLE_ROWS,
    max_columns: int = MAX_COLUMNS,
) -> list[str]:
    """Lines describing the table ``name`` read from ``source``."""
    kind = name.lower().rsplit(".", 1)[-1]
    try:
        if kind in ("csv", "tsv"):
            frame = pd.read_csv(source, nrows=rows, sep="\t" if kind == "tsv" else ",")
            return frame_summary(name, frame, rows, max_columns)
        if kind == "parquet":
            return _parquet(name, source, rows, max_columns)
        if kind == "jsonl":
            return _jsonl(name, source, max_columns)
        if kind == "json":
            return _json(name, source, size)
    except Exception as error:  # a preview never fails a run: say what could not be read
        return [f"{name}: could not be read ({type(error).__name__}: {str(error)[:120]})"]
    return []


def frame_summary(name: str, frame: pd.DataFrame, rows: int, max_columns: int) -> list[str]:
    header = f"{name}: {len(frame.columns)} columns"
    header += f", first {len(frame)} rows read" if len(frame) == rows else f", {len(frame)} rows"
    lines = [header]
    for column_name in list(frame.columns)[:max_columns]:
        column = frame[column_name]
        missing = int(column.isna().sum())
        try:
            unique = str(column.nunique())
        except TypeError:  # lists or dicts in cells (JSON)
            unique = "?"
        lines.append(
            f"  {column_name} ({column.dtype}, {missing} missing, {unique} unique): "
            f"{_examples(column)}"
        )
    if len(frame.columns) > max_columns:
        lines.append(f"  ... and {len(frame.columns) - max_columns} more columns")
    return lines


def _examples(series: pd.Series) -> str:
    shown = []
    for value in series.dropna().head(200):
        text = _short(value)
        if text not in shown:
            shown.append(text)
        if len(shown) == 4:
            break
    return ", ".join(shown)


def _short(value: Any) -> str:
    if isinstance(value, list):
        return f"[list of {len(value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(list(map(str, value))[:5]) + "}"
    text = str(value)
    return text if len(text) <= 30 else text[:27] + "..."


def _parquet(name: str, source: Path | IO[bytes], rows: int, max_columns: int) -> list[str]:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return [f"{name}: parquet (not previewed: pyarrow is not installed here)"]
    parquet = pq.ParquetFile(source)
    total = parquet.metadata.num_rows
    batch = next(parquet.iter_batches(batch_size=rows), None)
    frame = batch.to_pandas() if batch is not None else pd.DataFrame()
    lines = frame_summary(name, frame, rows, max_columns)
    lines[0] += f" (of {total} rows)"
    return lines


def _jsonl(name: str, source: Path | IO[bytes], max_columns: int) -> list[str]:
    records = []
    with _open(source) as stream:
        for line in stream:
            if line.strip():
                records.append(json.loads(line))
            if len(records) >= JSONL_LINES:
                break
    lines = [f"{name}: JSON Lines, first {len(records)} records read"]
    if records and all(isinstance(r, dict) for r in records):
        frame = pd.DataFrame.from_records(records)
        lines.extend(frame_summary(name, frame, len(records), max_columns)[1:])
    return lines


def _json(name: str, source: Path | IO[bytes], size: int | None) -> list[str]:
    if size is not None and size > JSON_WHOLE_BYTES:
        with _open(source) as stream:
            head = stream.read(JSON_HEAD_BYTES).decode("utf-8", errors="replace")
        return [f"{name}: JSON, too large to parse for a preview; it starts: {head[:300]!r}"]
    with _open(source) as stream:
        document = json.load(stream)
    return [f"{name}: JSON {_shape(document)}"]


def _shape(value: Any, depth: int = 0) -> str:
    """A JSON value's structure: types, lengths and keys, two levels deep."""
    if isinstance(value, dict):
        if depth >= 2:
            return f"object of {len(value)} keys"
        keys = list(value)[:12]
        inner = "; ".join(f"{k}: {_shape(value[k], depth + 1)}" for k in keys)
        more = f"; ... {len(value) - len(keys)} more keys" if len(value) > len(keys) else ""
        return f"object {{{inner}{more}}}"
    if isinstance(value, list):
        first = f" of {_shape(value[0], depth + 1)}" if value and depth < 2 else ""
        return f"list of {len(value)}{first}"
    if isinstance(value, str):
        return f"string {_short(value)!r}"
    return type(value).__name__ + f" {value!r}"[:40]


class _open:
    """A binary stream over a path or an already open stream (left open for its owner)."""

    def __init__(self, source: Path | IO[bytes]) -> None:
        self.source = source
        self.stream: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        if isinstance(self.source, Path):
            self.stream = self.source.open("rb")
            return self.stream
        return self.source

    def __exit__(self, *_: object) -> None:
        if self.stream is not None:
            self.stream.close()
