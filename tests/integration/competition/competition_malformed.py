"""Broken submissions, each made from a competition's sample submission, and what they must say."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd


def _sample(root: Path) -> pd.DataFrame:
    return pd.read_csv(root / "prepared" / "public" / "sample_submission.csv", dtype={"id": str})


def _first_target(frame: pd.DataFrame) -> str:
    return str(frame.columns[1])


def _set(value: object, row: int = 4) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        column = _first_target(frame)
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        return frame

    return edit


def _wrong_ids(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[:2, "id"] = ["zz1", "zz2", "zz3"]
    return frame


def _duplicate_id(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[1, "id"] = frame.loc[0, "id"]
    return frame


FRAME_EDITS: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], str]] = {
    "wrong_ids": (_wrong_ids, "3 test id(s) missing"),
    "missing_column": (lambda f: f.drop(columns=[_first_target(f)]), "missing column(s)"),
    "extra_column": (lambda f: f.assign(extra=1), "unexpected column(s) 'extra'"),
    "duplicate_id": (_duplicate_id, "appear more than once"),
    "missing_prediction": (_set(np.nan), "1 missing prediction(s), first at row 5"),
    "dropped_row": (lambda f: f.iloc[1:], "1 test id(s) missing"),
}

# Domain breakers, keyed by the task they apply to.
DOMAIN_EDITS: dict[str, tuple[str, Callable[[pd.DataFrame], pd.DataFrame], str]] = {
    "out_of_range_probability": ("auc", _set(1.5), "must lie in [0, 1]"),
    "negative_probability": ("logloss-multi", _set(-0.1), "must lie in [0, 1]"),
    "non_numeric_probability": ("logloss", _set("high"), "must hold numbers"),
    "non_integer_qwk_label": ("qwk", _set(2.5), "whole-number labels"),
    "qwk_label_off_scale": ("qwk", _set(7), "one of the labels 1, 2, 3, 4, 5"),
    "negative_rmsle_prediction": ("rmsle", _set(-3.0), "must be non-negative"),
    "infinite_rmse_prediction": ("rmse", _set(np.inf), "infinite value"),
}

RAW_FILES: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "the file is empty"),
    "blank_lines": (b"\n\n  \n", "the file is empty"),
    "binary_junk": (bytes(range(256)) * 4, "binary"),
    "latin1": ("id,target\nr1é,0.5\n".encode("latin-1"), "not UTF-8"),
    "ragged": (b"id,target\nr100,0.5\nr101,0.5,9,9\n", "could not be parsed as CSV"),
}


def write_frame_edit(root: Path, name: str, folder: Path) -> Path:
    edit, _ = FRAME_EDITS[name]
    path = folder / f"{name}.csv"
    edit(_sample(root)).to_csv(path, index=False)
    return path


def write_domain_edit(root: Path, name: str, folder: Path) -> Path:
    _, edit, _ = DOMAIN_EDITS[name]
    path = folder / f"{name}.csv"
    edit(_sample(root)).to_csv(path, index=False)
    return path


def write_raw(name: str, folder: Path) -> Path:
    path = folder / f"{name}.csv"
    path.write_bytes(RAW_FILES[name][0])
    return path
