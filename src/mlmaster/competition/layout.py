"""One prepared competition on disk, in MLE-bench's layout, loaded into a :class:`Competition`.

::

    <data_dir>/<id>/competition.json     our spec (a CompetitionSpec as JSON), or
    <data_dir>/<id>/config.yaml          MLE-bench's config, mapped onto a CompetitionSpec
    <data_dir>/<id>/leaderboard.csv      optional; MLE-bench's columns, at least ``score``
    <data_dir>/<id>/prepared/public/     what the agent sees (sample_submission.csv, ...)
    <data_dir>/<id>/prepared/private/    the answers, read only by the grader

The spec and leaderboard sit beside ``prepared/``, never inside ``public/``: the leaderboard
would tell a solution script what score wins.

``mlebench prepare`` leaves only ``prepared/``: its config and leaderboard stay in the
``mlebench`` package. Without a spec beside ``prepared/`` the config and leaderboard are read
from that package's registry when it is installed, and the rest (or everything, without it) is
inferred from the public folder as ``--public-dir`` does; ``private/`` is graded against when
it is there. Only our own ``competition.json`` is held strictly to its declared files.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from mlmaster.competition.medals import MedalThresholds, infer_lower_is_better, medal_thresholds
from mlmaster.competition.metrics import METRICS, Metric, grader_metrics
from mlmaster.competition.mlebench_registry import registry_entry
from mlmaster.competition.sample import sample_at
from mlmaster.competition.spec import CompetitionPaths, CompetitionSpec
from mlmaster.errors import UserError
from mlmaster.logs import get_logger

log = get_logger(__name__)

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
    # Where the spec came from: a declared file, MLE-bench's config (beside prepared/ or in the
    # mlebench package), or inferred from the public folder alone (then the model may be asked).
    spec_source: Literal["declared", "config", "inferred"] = "declared"
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
            if not self.answers_path.is_file():
                raise UserError(
                    f"{self.spec.id}: no answers at {self.answers_path}; grading needs the "
                    "private split (mlebench prepare writes it)"
                )
            self._answers = read_table(self.answers_path, self.spec.id_column)
        return self._answers

    def sample_columns(self) -> list[str]:
        """The columns a submission must have: the sample submission's header.

        Without a readable sample (none, or only inside a 7z) the spec's id and target columns.
        """
        sample = sample_at(self.paths.public_dir, self.spec.sample_submission_file)
        if sample.columns is not None:
            return sample.columns
        return [self.spec.id_column, *self.spec.target_columns]

    def description(self) -> str:
        """The public ``description.md``, or a short stand-in built from the spec if absent."""
        if self.paths.description_file.is_file():
            return self.paths.description_file.read_text(encoding="utf-8")
        spec = self.spec
        direction = "lower is better" if spec.lower_is_better else "higher is better"
        return (
            f"# {spec.name}\n\nPredict {', '.join(spec.target_columns)} for each "
            f"{spec.id_column} of the test set.\n\nEvaluation: {spec.metric} ({direction}).\n\n"
            f"Submit a CSV with the columns {', '.join([spec.id_column, *spec.target_columns])}.\n"
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


def require_prepared(data_dir: Path, competition_ids: Iterable[str]) -> None:
    """Refuse (``UserError``, one line) competitions with no ``prepared/`` folder under
    ``data_dir``, all of them at once, before a campaign of runs starts."""
    missing = [c for c in competition_ids if not (data_dir / c / "prepared").is_dir()]
    if len(missing) == 1:
        raise UserError(_unknown_competition(data_dir, missing[0]))
    if missing:
        found = ", ".join(available_competitions(data_dir)) or "none"
        raise UserError(
            f"unknown competitions {', '.join(map(repr, missing))}: no prepared/ folder for them "
            f"in {data_dir}; competitions there: {found}"
        )


def load_competition(data_dir: Path, competition_id: str) -> Competition:
    """Load ``<data_dir>/<competition_id>``; a ``UserError`` saying what is missing otherwise."""
    root = data_dir / competition_id
    if not (root / "prepared").is_dir():
        raise UserError(_unknown_competition(data_dir, competition_id))
    public, private = root / "prepared" / "public", root / "prepared" / "private"
    if not public.is_dir():
        raise UserError(f"{competition_id}: {public} is missing; prepare the competition first")
    declared = (root / SPEC_FILE).is_file()  # our own spec: every file it names must be there
    if declared and not private.is_dir():
        raise UserError(
            f"{competition_id}: {private} (the answers) is missing; grading needs the private split"
        )
    spec, leaderboard_file, source = _load_spec(root, competition_id)
    sample = public / spec.sample_submission_file if spec.sample_submission_file else None
    paths = CompetitionPaths(
        root=root,
        public_dir=public,
        private_dir=private,
        description_file=public / "description.md",
        sample_submission=sample,
    )
    if declared and (sample is None or not sample.is_file()):
        raise UserError(f"{competition_id}: {sample} is missing")
    if not (private / spec.answers_file).is_file():
        if declared:
            raise UserError(
                f"{competition_id}: the answers file {private / spec.answers_file} is missing"
            )
        log.warning(
            "no answers: submissions are checked for format only",
            competition=competition_id,
            expected=str(private / spec.answers_file),
        )
    leaderboard = None
    if leaderboard_file is not None:
        leaderboard = Leaderboard.from_csv(leaderboard_file)
        spec = _check_direction(spec, leaderboard, leaderboard_file, strict=declared)
    return Competition(spec=spec, paths=paths, leaderboard=leaderboard, spec_source=source)


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


SpecSource = Literal["declared", "config", "inferred"]


def _load_spec(root: Path, competition_id: str) -> tuple[CompetitionSpec, Path | None, SpecSource]:
    """The spec and the leaderboard file, from the first source that has them.

    Our ``competition.json``, else MLE-bench's ``config.yaml`` beside ``prepared/``, else the
    ``mlebench`` package's registry, else the public folder alone.
    """
    local_board = root / LEADERBOARD_FILE
    source: SpecSource = "config"
    if (root / SPEC_FILE).is_file():
        source = "declared"
        spec = _read_spec_json(root / SPEC_FILE)
        board = local_board if local_board.is_file() else None
    elif (root / MLEBENCH_CONFIG).is_file():
        spec = _spec_from_mlebench_config(root, competition_id, _read_config(root))
        source = "config" if _grader_known(_read_config(root)) else "inferred"
        board = local_board if local_board.is_file() else None
    elif (entry := registry_entry(competition_id)) is not None:
        log.info("competition config from the mlebench package", competition=competition_id)
        spec = _spec_from_mlebench_config(root, competition_id, entry.config)
        source = "config" if _grader_known(entry.config) else "inferred"
        board = local_board if local_board.is_file() else entry.leaderboard
    else:
        from mlmaster.competition.infer import infer_spec

        log.info(
            "no competition.json, config.yaml or mlebench registry entry: spec inferred "
            "from the public folder",
            competition=competition_id,
        )
        source = "inferred"
        spec = infer_spec(root / "prepared" / "public", competition_id)
        spec = spec.model_copy(
            update={"answers_file": _answers_file(root / "prepared" / "private")}
        )
        board = local_board if local_board.is_file() else None
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
    return spec, board, source


# Answer file names MLE-bench's configs use, most common first.
_ANSWER_NAMES = ("answers.csv", "test.csv", "test.jsonl", "test_orders.csv")


def _answers_file(private: Path) -> str:
    """The answers' name in ``private/`` when no config names it: a usual one, else the only CSV."""
    for name in _ANSWER_NAMES:
        if (private / name).is_file():
            return name
    csvs = sorted(p.name for p in private.glob("*.csv")) if private.is_dir() else []
    others = [n for n in csvs if n != "gold_submission.csv"]
    return others[0] if len(others) == 1 else "answers.csv"


def _read_spec_json(path: Path) -> CompetitionSpec:
    try:
        return CompetitionSpec.model_validate_json(path.read_bytes())
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors()
        )
        raise UserError(f"{path} is not a valid competition spec: {problems}") from None


def _read_config(root: Path) -> dict[str, Any]:
    path = root / MLEBENCH_CONFIG
    try:
        config: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise UserError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(config, dict):
        raise UserError(f"{path} should hold a mapping of fields")
    return config


def _grader_known(config: dict[str, Any]) -> bool:
    grader = str((config.get("grader") or {}).get("name", "")).strip().lower()
    return grader in GRADER_METRICS


def _spec_from_mlebench_config(
    root: Path, competition_id: str, config: dict[str, Any]
) -> CompetitionSpec:
    """Map MLE-bench's config; the columns and the rest come from the public folder.

    A grader none of our metrics computes does not stop a run: the metric is then inferred
    from the description, as for a bare public folder, with a warning.
    """
    from mlmaster.competition.infer import infer_spec

    grader = str((config.get("grader") or {}).get("name", "")).strip().lower()
    metric = GRADER_METRICS.get(grader)
    if metric is None:
        log.warning(
            "MLE-bench grader has no metric here; the metric is inferred from the description",
            grader=grader or "(none)",
            known=sorted(GRADER_METRICS),
        )
    dataset = config.get("dataset") or {}
    public = root / "prepared" / "public"
    answers = _config_file(root, dataset.get("answers"), "private", "answers.csv")
    spec = infer_spec(public, competition_id, metric=metric)
    declared_sample = dataset.get("sample_submission")
    update: dict[str, Any] = {"answers_file": answers.name}
    if declared_sample and (public / Path(str(declared_sample)).name).is_file():
        update["sample_submission_file"] = Path(str(declared_sample)).name
        update["sample_submission_member"] = None
    if config.get("name"):
        update["name"] = str(config["name"])
    return spec.model_copy(update=update)


def _config_file(root: Path, declared: object, split: str, default: str) -> Path:
    """A config.yaml dataset path (``<id>/prepared/<split>/<file>``) under this competition."""
    name = Path(str(declared)).name if declared else default
    return root / "prepared" / split / name


def _check_direction(
    spec: CompetitionSpec, leaderboard: Leaderboard, path: Path, *, strict: bool
) -> CompetitionSpec:
    """Thresholds are read by position, so the rows must run best first for the spec's metric.

    A declared spec must agree with its leaderboard; an inferred or mapped one takes the
    leaderboard's direction, as MLE-bench itself does (first row against last).
    """
    scores = leaderboard.scores
    if scores[0] == scores[-1]:
        return spec
    lower = infer_lower_is_better(scores)
    if lower == spec.lower_is_better:
        return spec
    if not strict:
        log.warning(
            "direction taken from the leaderboard", metric=spec.metric, lower_is_better=lower
        )
        return spec.model_copy(update={"lower_is_better": lower})
    direction = "lower" if spec.lower_is_better else "higher"
    raise UserError(
        f"{path} is not sorted best first for {spec.metric} ({direction} is better); "
        "sort its rows best first"
    )
