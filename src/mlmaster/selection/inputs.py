"""The run's derived input folder: what scripts see as ``./input`` when a holdout exists.

Built once at run start (a resumed run finds it and reuses it, so its holdout never moves)::

    <run>/input/              every public entry linked, except:
        train.csv             the kept rows only (written, not linked)
        holdout.csv           the held rows in the test table's columns (no targets)
    <run>/holdout/
        answers.csv           the held rows' id and targets: outside input/, never mounted
        holdout.json          what was carved (file, rows, how, fraction, seed)

The links point into the competition's real public folder, which the sandbox mounts read-only
as well so they resolve; the held answers sit in the run directory, which no script can reach.
Tables are read and written as text, so every kept cell reaches the script exactly as the
competition wrote it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from mlmaster.competition.spec import CompetitionSpec
from mlmaster.selection.holdout import Carved, HoldoutPlan, NoHoldout, carve, class_column

HOLDOUT_INPUT = "holdout.csv"  # the held rows, as scripts read them from ./input
HOLDOUT_OUTPUT = "holdout.csv"  # the scripts' predictions for them, in ./submission
# The table is read whole, as text: larger ones would hold the run's start (and its memory)
# for minutes, so they get no holdout.
MAX_TABLE_BYTES = 1024**3


class HoldoutInfo(BaseModel):
    """What was carved; kept beside the held answers and stated in the prompt and report."""

    train_file: str
    rows_kept: int
    rows_held: int
    how: str
    fraction: float
    seed: int
    group_column: str | None = None
    # The training table's column that holds the class where the submission wants a probability
    # column per class: the held answers are that column one-hot over the submission's columns.
    class_column: str | None = None


class DerivedInput(BaseModel):
    """A run's holdout: where scripts read, where the held answers are, and what was carved."""

    input_dir: Path  # what ./input links to
    source_dir: Path  # the real public folder the links resolve into (mounted read-only)
    answers: Path  # the held rows' id and targets
    info: HoldoutInfo


def train_table(public_dir: Path, spec: CompetitionSpec) -> str | None:
    """The training table's name in ``public_dir``: the spec's, else ``train.csv``; CSV only."""
    for name in (spec.train_file, "train.csv"):
        if name and name.lower().endswith(".csv") and (public_dir / name).is_file():
            return name
    return None


def test_table(public_dir: Path, spec: CompetitionSpec) -> str | None:
    for name in (spec.test_file, "test.csv"):
        if name and name.lower().endswith(".csv") and (public_dir / name).is_file():
            return name
    return None


def derive_input(
    public_dir: Path,
    input_dir: Path,
    holdout_dir: Path,
    spec: CompetitionSpec,
    *,
    fraction: float,
    seed: int,
    group_column: str | None = None,
    min_held: int = 1,
    max_bytes: int = MAX_TABLE_BYTES,
) -> DerivedInput | NoHoldout:
    """The derived input for this run: reused when already built, else carved and written."""
    source = public_dir.resolve()
    answers, info_file = holdout_dir / "answers.csv", holdout_dir / "holdout.json"
    if input_dir.is_dir() and info_file.is_file() and answers.is_file():
        info = HoldoutInfo.model_validate_json(info_file.read_text(encoding="utf-8"))
        return DerivedInput(input_dir=input_dir, source_dir=source, answers=answers, info=info)
    train_name = train_table(source, spec)
    if train_name is None:
        return NoHoldout("the public data has no training table (a train CSV)")
    size = (source / train_name).stat().st_size
    if size > max_bytes:
        return NoHoldout(
            f"{train_name} is {size / 1024**2:.0f} MiB, more than the {max_bytes / 1024**2:.0f} "
            "MiB the holdout reads into memory"
        )
    try:
        train = _read_text_table(source / train_name)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        return NoHoldout(f"{train_name} could not be read as CSV: {error}")
    label = class_column(train, spec.id_column, list(spec.target_columns))
    plan = HoldoutPlan(
        id_column=spec.id_column,
        target_columns=[label] if label else list(spec.target_columns),
        task_type="multiclass" if label else spec.task_type,
        fraction=fraction,
        seed=seed,
        group_column=group_column,
        min_held=min_held,
    )
    carved = carve(_with_missing_targets(train, plan), plan)
    if isinstance(carved, NoHoldout):
        return carved
    info = HoldoutInfo(
        train_file=train_name,
        rows_kept=len(carved.kept),
        rows_held=len(carved.held),
        how=carved.how,
        fraction=fraction,
        seed=seed,
        group_column=group_column,
        class_column=label,
    )
    _write(source, input_dir, holdout_dir, spec, carved, info, test_table(source, spec))
    return DerivedInput(input_dir=input_dir, source_dir=source, answers=answers, info=info)


def full_input(derived: DerivedInput, folder: Path) -> Path:
    """A folder like the derived input but with the whole training table (for a refit).

    Every public entry is linked, the original training table included, and ``holdout.csv``
    too, so the chosen script runs unchanged; its holdout predictions are then meaningless
    and ignored.
    """
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for entry in sorted(derived.source_dir.iterdir()):
        if entry.name != HOLDOUT_INPUT:
            os.symlink(entry, folder / entry.name, target_is_directory=entry.is_dir())
    os.symlink(derived.input_dir / HOLDOUT_INPUT, folder / HOLDOUT_INPUT)
    folder.chmod(0o755)
    return folder


def _read_text_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, low_memory=False)


def _with_missing_targets(train: pd.DataFrame, plan: HoldoutPlan) -> pd.DataFrame:
    """Empty target cells as missing, so the carving refuses a table with unlabelled rows."""
    targets = [c for c in plan.target_columns if c in train.columns]
    if not targets:
        return train
    blank = train[targets].apply(lambda column: column.str.strip() == "")
    return train.mask(blank.reindex(columns=train.columns, fill_value=False))


def _answers_of(
    held: pd.DataFrame, spec: CompetitionSpec, class_column: str | None
) -> pd.DataFrame:
    """The held rows' answers as the competition's answers hold them: their target columns, or
    their class one-hot over the submission's columns."""
    if class_column is None:
        return held[[spec.id_column, *spec.target_columns]]
    classes = held[class_column].str.strip()
    one_hot = {name: (classes == name).astype(int) for name in spec.target_columns}
    return pd.DataFrame({spec.id_column: held[spec.id_column], **one_hot})


def _write(
    source: Path,
    input_dir: Path,
    holdout_dir: Path,
    spec: CompetitionSpec,
    carved: Carved,
    info: HoldoutInfo,
    test_name: str | None,
) -> None:
    """Write both folders whole, each under a temporary name first, so a crash leaves none."""
    hidden = [*spec.target_columns, *([info.class_column] if info.class_column else [])]
    held_columns = [c for c in carved.held.columns if c not in hidden]
    if test_name is not None:  # the held rows look like test rows: the test table's columns
        test_columns = list(pd.read_csv(source / test_name, nrows=0).columns)
        shared = [c for c in test_columns if c in carved.held.columns and c not in hidden]
        if spec.id_column in shared:
            held_columns = shared
    parent = input_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="input.", dir=parent))
    for entry in sorted(source.iterdir()):
        if entry.name in (info.train_file, HOLDOUT_INPUT):
            continue
        os.symlink(entry, staging / entry.name, target_is_directory=entry.is_dir())
    carved.kept.to_csv(staging / info.train_file, index=False)
    carved.held[held_columns].to_csv(staging / HOLDOUT_INPUT, index=False)
    # Readable by the scripts' user (mkdtemp makes 0700); the answers' folder stays 0700.
    staging.chmod(0o755)
    for written in (info.train_file, HOLDOUT_INPUT):
        (staging / written).chmod(0o644)
    answers_staging = Path(tempfile.mkdtemp(prefix="holdout.", dir=parent))
    _answers_of(carved.held, spec, info.class_column).to_csv(
        answers_staging / "answers.csv", index=False
    )
    (answers_staging / "holdout.json").write_text(info.model_dump_json(indent=2) + "\n")
    for final, built in ((input_dir, staging), (holdout_dir, answers_staging)):
        if final.exists():  # a half-built pair from a crash: the seed rebuilds the same slice
            shutil.rmtree(final)
        built.rename(final)
