"""The baseline script the offline coder writes for data it cannot model (images, audio, ...).

Like :mod:`mlmaster.offline.script_body`, this file's source is copied into the script, followed
by a ``CONFIG`` literal and a call to :func:`main`, and runs in the scripts' environment (pandas
and the standard library only). It writes ``./submission/submission.csv`` in the sample
submission's format: the sample itself, every cell kept as written, except the prediction
columns the coder found a prior for in the training labels (the mean, the median or the most
frequent value, or each class's frequency for one probability column per class). Without a
sample submission it starts from the test table's ids. It prints no validation metric: a
constant has nothing to validate.
"""

import json  # noqa: F401  # the rendered script parses its CONFIG literal with it
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd

INPUT = Path("input")
WORKING = Path("working")
SUBMISSION = Path("submission") / "submission.csv"
SEVEN_ZIP_PROGRAMS = ("7z", "7za", "7zr")


def extract_7z(archive):
    """Extract a 7z archive under ./working (input is read-only): py7zr or a 7z program."""
    target = WORKING / (archive.name + ".extracted")
    target.mkdir(parents=True, exist_ok=True)
    try:
        import py7zr  # not part of the usual scripts' environment

        with py7zr.SevenZipFile(archive) as opened:
            opened.extractall(target)
        return target
    except ImportError:
        pass
    for program in SEVEN_ZIP_PROGRAMS:
        if shutil.which(program):
            subprocess.run([program, "x", "-y", f"-o{target}", str(archive)], check=True)
            return target
    raise SystemExit(
        f"cannot open {archive}: neither py7zr nor a 7z program ({', '.join(SEVEN_ZIP_PROGRAMS)}) "
        "is installed, so the sample submission inside it cannot be read"
    )


def read_table(path, member=None):
    """A CSV as strings, cells exactly as written; from inside a zip, gzip or 7z archive too."""
    options = {"dtype": str, "keep_default_na": False}
    if path.name.lower().endswith(".7z"):
        folder = extract_7z(path)
        found = sorted(folder.rglob(member or "*.csv")) or sorted(folder.rglob("*.csv"))
        if not found:
            raise SystemExit(f"{path} holds no CSV file")
        return pd.read_csv(found[0], **options)
    if path.name.lower().endswith(".zip") and member:
        with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
            return pd.read_csv(stream, **options)
    return pd.read_csv(path, **options)  # pandas opens .gz and single-file .zip itself


def from_test_ids(cfg):
    """No sample submission: one row per test id, the target columns filled or copied."""
    if not cfg["test_file"]:
        raise SystemExit("no sample submission and no test table: nothing to take the ids from")
    test = read_table(INPUT / cfg["test_file"])
    id_column = cfg["id_column"]
    if id_column not in test.columns:
        raise SystemExit(f"the test table {cfg['test_file']} has no id column {id_column!r}")
    frame = pd.DataFrame({id_column: test[id_column]})
    for column in cfg["target_columns"]:
        # A target the test table also holds (say, the sentence to correct) is its own baseline.
        frame[column] = test[column] if column in test.columns else cfg["fills"].get(column, 0)
    return frame


def main(cfg):
    if cfg["sample_file"]:
        submission = read_table(INPUT / cfg["sample_file"], cfg["sample_member"])
    else:
        submission = from_test_ids(cfg)
    for column, value in cfg["fills"].items():
        if column in submission.columns:
            submission[column] = value
    SUBMISSION.parent.mkdir(parents=True, exist_ok=True)
    submission.to_csv(SUBMISSION, index=False)
    filled = ", ".join(f"{c}={v}" for c, v in cfg["fills"].items()) or "none (sample values kept)"
    print(f"offline baseline: wrote {SUBMISSION} with {len(submission)} rows; priors: {filled}")
