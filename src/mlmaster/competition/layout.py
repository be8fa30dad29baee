"""One prepared competition on disk, in MLE-bench's layout, loaded into a :class:`Competition`.

::

    <data_dir>/<id>/competition.json     our spec (a CompetitionSpec as JSON), or
    <data_dir>/<id>/config.yaml          MLE-bench's config, mapped onto a CompetitionSpec
    <data_dir>/<id>/leaderboard.csv      optional; MLE-bench's columns, at least ``score``
    <data_dir>/<id>/prepared/public/     what the agent sees (sample_submission.csv, ...)
    <data_dir>/<id>/prepared/private/    the answers, read only by the grader

The spec and leaderboard sit beside ``prepared/``, never inside ``public/``: the leaderboard
would tell a solution script what score wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from mlmaster.competition.medals import MedalThresholds, infer_lower_is_better, medal_thresholds
from mlmaster.competition.metrics import METRICS, Metric, grader_metrics
from mlmaster.competition.spec import CompetitionPaths, CompetitionSpec
from mlmaster.errors import UserError

SPEC_FILE = "competition.json"
MLEBENCH_CONFIG = "config.yaml"
LEADERBOARD_FILE = "leaderboard.csv"

# MLE-bench grader names (config.yaml ``grader.name``) that one of our metrics computes.
GRADER_METRICS: dict[str, str] = grader_metrics()


class Leaderboard(BaseModel):
    """A competition's leaderboard: its scores in rank order, best first."""

    model_config = ConfigDict(frozen=True)

    scores: list[float]

    @property
    def thresholds(self) -> MedalThresholds:
        return medal_thresholds(self.scores)

    @classmethod
    def from_csv(cls, path: Path) -> Leaderboard:
        """Read MLE-bench's ``leaderboard.csv`` (only its ``score`` column matters)."""
        try:
            frame = pd.read_csv(path, **ROUND_TRIP)
        except (ValueError, OSError, UnicodeDecodeError) as error:
            raise UserError(f"{path} could not be read as CSV: {error}") from None
        if "score" not in frame.columns:
            raise UserError(f"{path} has no 'score' column (it has: {', '.join(frame.columns)})")
        scores = pd.to_numeric(frame["score"], errors="coerce")
        bad = scores.isna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0]) + 2  # 1-based, after the header line
            raise UserError(
                f"{path}: 'score' is missing or not a number on {int(bad.sum())} row(s), "
                f"first at line {row}"
            )
        if scores.empty:
            raise UserError(f"{path} has no rows")
        return cls(scores=[float(s) for s in scores])


class Competition(BaseModel):
    """A prepared competition: what it declares, where its files are, and its leaderboard."""

    model_config = ConfigDict(frozen=True)

    spec: CompetitionSpec
    paths: CompetitionPaths
    leaderboard: Leaderboard | None = None
    _answers: pd.DataFrame | None = PrivateAttr(default=None)

    @property
    def metric(self) -> Metric:
        return METRICS[self.spec.metric]

    @property
    def answers_path(self) -> Path:
        return self.paths.private_dir / self.spec.answers_file

    def answers(self) -> pd.DataFrame:
        """The private answers, read once and kept (ids as text, as the grader compares them)."""
        if self._answers is None:
            self._answers = read_table(self.answers_path, self.spec.id_column)
        return self._answers

    def sample_columns(self) -> list[str]:
        """The columns a submission must have: the sample submission's header."""
        return list(pd.read_csv(self.paths.sample_submission, nrows=0).columns)

    def description(self) -> str:
        """The public ``description.md``, or a short stand-in built from the spec if absent."""
        if self.paths.description_file.is_file():
            return self.paths.description_file.read_text(encoding="utf-8")
        spec = self.spec
        direction = "lower is better" if spec.lower_is_better else "higher is better"
        return (
            f"# {spec.name}\n\nPredict {', '.join(spec.target_columns)} for each "
            f"{spec.id_column} of the test set.\n\nEvaluation: {spec.metric} ({direction}).\n\n"
            f"Submit a CSV with the columns of sample_submission.csv.\n"
        )


# MLE-bench reads CSVs with round-trip float parsing; pandas 3 does that by default and
# deprecates the option.
ROUND_TRIP: dict[str, Any] = (
    {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
)


def read_table(path: Path | IO[str], id_column: str) -> pd.DataFrame:
    """A CSV as MLE-bench reads it (round-trip floats), with the id column kept as text."""
    return pd.read_csv(path, dtype={id_column: str}, **ROUND_TRIP)


def available_competitions(data_dir: Path) -> list[str]:
    """Ids of the competitions under ``data_dir`` (folders holding a ``prepared/`` folder)."""
    if not data_dir.is_dir():
        return []
    return sorted(p.name for p in data_dir.iterdir() if (p / "prepared").is_dir())


def load_competition(data_dir: Path, competition_id: str) -> Competition:
    """Load ``<data_dir>/<competition_id>``; a ``UserError`` saying what is missing otherwise."""
    root = data_dir / competition_id
    if not (root / "prepared").is_dir():
        raise UserError(_unknown_competition(data_dir, competition_id))
    public, private = root / "prepared" / "public", root / "prepared" / "private"
    if not public.is_dir():
        raise UserError(f"{competition_id}: {public} is missing; prepare the competition first")
    if not private.is_dir():
        raise UserError(
            f"{competition_id}: {private} (the answers) is missing; grading needs the private split"
        )
    spec = _load_spec(root, competition_id)
    paths = CompetitionPaths(
        root=root,
        public_dir=public,
        private_dir=private,
        description_file=public / "description.md",
        sample_submission=public / spec.sample_submission_file,
    )
    if not paths.sample_submission.is_file():
        raise UserError(f"{competition_id}: {paths.sample_submission} is missing")
    if not (private / spec.answers_file).is_file():
        raise UserError(
            f"{competition_id}: the answers file {private / spec.answers_file} is missing"
        )
    leaderboard = None
    if (root / LEADERBOARD_FILE).is_file():
        leaderboard = Leaderboard.from_csv(root / LEADERBOARD_FILE)
        _check_direction(spec, leaderboard, root / LEADERBOARD_FILE)
    return Competition(spec=spec, paths=paths, leaderboard=leaderboard)


def _unknown_competition(data_dir: Path, competition_id: str) -> str:
    if not data_dir.is_dir():
        return (
            f"unknown competition {competition_id!r}: the data dir {data_dir} does not exist; "
            "pass --data-dir or set MLMASTER_RUN__DATA_DIR"
        )
    found = available_competitions(data_dir)
    listing = ", ".join(found) if found else "none"
    return (
        f"unknown competition {competition_id!r}: no {data_dir / competition_id / 'prepared'}; "
        f"competitions in {data_dir}: {listing}"
    )


def _load_spec(root: Path, competition_id: str) -> CompetitionSpec:
    """Our ``competition.json`` when present, else MLE-bench's ``config.yaml`` mapped over."""
    if (root / SPEC_FILE).is_file():
        spec = _read_spec_json(root / SPEC_FILE)
    elif (root / MLEBENCH_CONFIG).is_file():
        spec = _spec_from_mlebench_config(root, competition_id)
    else:
        raise UserError(
            f"{competition_id}: neither {root / SPEC_FILE} nor {root / MLEBENCH_CONFIG} exists; "
            "one of them must declare the metric, id column and target columns"
        )
    if spec.id != competition_id:
        raise UserError(
            f"{root}: the spec's id {spec.id!r} differs from the folder name {competition_id!r}"
        )
    if spec.metric not in METRICS:
        raise UserError(
            f"{competition_id}: unknown metric {spec.metric!r}; known: {', '.join(sorted(METRICS))}"
        )
    if spec.metric == "map_at_k" and spec.metric_k is None:
        raise UserError(f"{competition_id}: metric map_at_k needs metric_k (the K) in its spec")
    return spec


def _read_spec_json(path: Path) -> CompetitionSpec:
    try:
        return CompetitionSpec.model_validate_json(path.read_bytes())
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors()
        )
        raise UserError(f"{path} is not a valid competition spec: {problems}") from None


def _spec_from_mlebench_config(root: Path, competition_id: str) -> CompetitionSpec:
    """Map MLE-bench's config.yaml; the id and target columns come from the sample submission."""
    path = root / MLEBENCH_CONFIG
    try:
        config: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise UserError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(config, dict):
        raise UserError(f"{path} should hold a mapping of fields")
    grader = str((config.get("grader") or {}).get("name", "")).strip().lower()
    metric = GRADER_METRICS.get(grader)
    if metric is None:
        raise UserError(
            f"{path}: grader {grader or '(none)'!r} has no metric here (known graders: "
            f"{', '.join(sorted(GRADER_METRICS))}); write a {SPEC_FILE} beside it instead"
        )
    dataset = config.get("dataset") or {}
    sample = _config_file(root, dataset.get("sample_submission"), "public", "sample_submission.csv")
    answers = _config_file(root, dataset.get("answers"), "private", "answers.csv")
    if not sample.is_file():
        raise UserError(f"{competition_id}: the sample submission {sample} is missing")
    columns = list(pd.read_csv(sample, nrows=0).columns)
    if len(columns) < 2:
        raise UserError(f"{sample} needs an id column and at least one target column")
    return CompetitionSpec(
        id=str(config.get("id") or competition_id),
        name=str(config.get("name") or competition_id),
        metric=metric,
        lower_is_better=METRICS[metric].lower_is_better,
        id_column=columns[0],
        target_columns=columns[1:],
        task_type=METRICS[metric].task_type,
        answers_file=answers.name,
        sample_submission_file=sample.name,
    )


def _config_file(root: Path, declared: object, split: str, default: str) -> Path:
    """A config.yaml dataset path (``<id>/prepared/<split>/<file>``) under this competition."""
    name = Path(str(declared)).name if declared else default
    return root / "prepared" / split / name


def _check_direction(spec: CompetitionSpec, leaderboard: Leaderboard, path: Path) -> None:
    """Thresholds are read by position, so the rows must run best first for the spec's metric."""
    scores = leaderboard.scores
    if scores[0] == scores[-1]:
        return
    if infer_lower_is_better(scores) != spec.lower_is_better:
        direction = "lower" if spec.lower_is_better else "higher"
        raise UserError(
            f"{path} is not sorted best first for {spec.metric} ({direction} is better); "
            "sort its rows best first"
        )
