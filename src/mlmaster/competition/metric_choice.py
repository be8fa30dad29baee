"""Which metric a run optimises, in which direction, and who said so.

Three sources, strongest first:

1. the settings ``competition.metric`` / ``competition.lower_is_better`` (the user knows);
2. a declared spec (our ``competition.json``, MLE-bench's config with a known grader);
3. for a spec inferred from a public folder: the model's reading of the description, when an
   LLM is configured (:mod:`mlmaster.llm.metric_reading` makes that one structured call); its
   answer is checked here against the known metrics and the sample submission;
4. the keyword rules over the description (:mod:`mlmaster.competition.infer`), offline.

:func:`choose_metric` returns the competition with its spec settled and a
:class:`MetricChoice` saying where the choice came from, for the run's first lines and report.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from mlmaster.competition.layout import Competition
from mlmaster.competition.metrics import METRICS
from mlmaster.errors import UserError
from mlmaster.logs import get_logger
from mlmaster.settings import Settings

log = get_logger(__name__)

Source = Literal["setting", "declared", "model", "rules"]
DESCRIPTION_CHARS = 12000  # the description sent to the model (its evaluation part is early)


class MetricChoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    metric: str
    lower_is_better: bool
    source: Source
    note: str = ""  # e.g. what the model answered that was not used
    # The submission's columns (id first) as the model read them, kept only when neither a
    # sample submission nor the description's text showed them.
    submission_columns: list[str] | None = None

    def line(self) -> str:
        direction = "lower" if self.lower_is_better else "higher"
        text = f"metric {self.metric} ({direction} is better), from {_SOURCES[self.source]}"
        return text + (f"; {self.note}" if self.note else "")


_SOURCES: dict[Source, str] = {
    "setting": "the settings (competition.metric)",
    "declared": "the competition's declared spec",
    "model": "the model's reading of the description",
    "rules": "keyword rules over the description",
}


class ModelReading(BaseModel):
    """What the model is asked to answer, as JSON."""

    metric: str
    lower_is_better: bool
    id_column: str | None = None
    submission_columns: list[str] | None = None
    submission_format: str | None = None


PROMPT = """Read this competition description and say how submissions are scored.

Answer with only a JSON object in a ```json code block, with these fields:
- "metric": one of {known}, the closest to what the description scores by;
- "lower_is_better": true or false, for that metric as the description uses it;
- "id_column": the column that identifies a test row in the submission;
- "submission_columns": every column of the submission file, in order;
- "submission_format": one sentence on what each row holds.

# Description

{description}
"""


def choose_metric(
    competition: Competition, settings: Settings, reading: ModelReading | None
) -> tuple[Competition, MetricChoice]:
    """The competition with its metric settled, and where the metric came from.

    ``reading`` is the model's answer (or None without an LLM or when the call failed).
    """
    spec = competition.spec
    wanted = settings.competition.metric
    direction = settings.competition.lower_is_better
    if wanted is not None or direction is not None:
        metric = wanted or spec.metric
        if metric not in METRICS:
            raise UserError(
                f"competition.metric = {metric!r} is not a known metric; "
                f"known: {', '.join(sorted(METRICS))}"
            )
        lower = direction if direction is not None else METRICS[metric].lower_is_better
        choice = MetricChoice(metric=metric, lower_is_better=lower, source="setting")
        return with_choice(competition, choice), choice
    if competition.spec_source != "inferred":
        choice = MetricChoice(
            metric=spec.metric, lower_is_better=spec.lower_is_better, source="declared"
        )
        return competition, choice
    rules = MetricChoice(metric=spec.metric, lower_is_better=spec.lower_is_better, source="rules")
    if reading is None:
        return competition, rules
    problem = _check(reading, competition)
    if problem is not None:
        log.warning("model's metric reading not used", problem=problem)
        note = f"the model's answer was not used: {problem}"
        return competition, rules.model_copy(update={"note": note})
    shown = reading.submission_columns or []
    columns = shown if not spec.target_columns and len(shown) >= 2 else None
    if competition.leaderboard is not None and reading.lower_is_better != spec.lower_is_better:
        # A leaderboard's order is MLE-bench's own word on the direction.
        note = "direction from the leaderboard's order"
        choice = MetricChoice(
            metric=reading.metric,
            lower_is_better=spec.lower_is_better,
            source="model",
            note=note,
            submission_columns=columns,
        )
    else:
        choice = MetricChoice(
            metric=reading.metric,
            lower_is_better=reading.lower_is_better,
            source="model",
            submission_columns=columns,
        )
    return with_choice(competition, choice), choice


def _check(reading: ModelReading, competition: Competition) -> str | None:
    """Why the model's answer cannot be used, or None when it can."""
    if reading.metric not in METRICS:
        return f"metric {reading.metric!r} is not one of the known metrics"
    natural = METRICS[reading.metric].lower_is_better
    if reading.lower_is_better != natural:
        which = "lower" if natural else "higher"
        return f"{reading.metric} is {which}-is-better, the answer said otherwise"
    spec = competition.spec
    known = [spec.id_column, *spec.target_columns] if spec.target_columns else None
    if known and reading.submission_columns and reading.submission_columns != known:
        return (
            f"its submission columns {reading.submission_columns} differ from the sample "
            f"submission's {known}"
        )
    return None


def with_choice(competition: Competition, choice: MetricChoice) -> Competition:
    """The competition re-inferred around the chosen metric (task type and labels follow)."""
    spec = competition.spec
    columns = choice.submission_columns if not spec.target_columns else None
    if (choice.metric, choice.lower_is_better) == (spec.metric, spec.lower_is_better):
        new = spec
    elif competition.spec_source == "inferred":
        from mlmaster.competition.infer import infer_spec

        new = infer_spec(
            competition.paths.public_dir,
            spec.id,
            metric=choice.metric,
            lower_is_better=choice.lower_is_better,
        ).model_copy(update={"answers_file": spec.answers_file, "name": spec.name})
    else:
        new = spec.model_copy(
            update={"metric": choice.metric, "lower_is_better": choice.lower_is_better}
        )
    if columns:
        new = new.model_copy(update={"id_column": columns[0], "target_columns": columns[1:]})
    if new is spec:
        return competition
    return competition.model_copy(update={"spec": new})


def metric_prompt(description: str) -> str:
    return PROMPT.format(
        known=", ".join(sorted(METRICS)), description=description[:DESCRIPTION_CHARS].strip()
    )


_JSON_BLOCK = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.S)
_BARE_OBJECT = re.compile(r"\{.*\}", re.S)


def parse_reading(text: str) -> ModelReading | None:
    """The JSON object of the model's answer, or None when there is none that fits."""
    found = _JSON_BLOCK.search(text) or _BARE_OBJECT.search(text)
    if found is None:
        return None
    raw = found.group(1) if found.re is _JSON_BLOCK else found.group(0)
    try:
        data: Any = json.loads(raw)
        return ModelReading.model_validate(data)
    except (ValueError, ValidationError):
        return None


def recorded_choice(run_dir: Path) -> MetricChoice | None:
    """The metric choice a run's first journal line recorded (None for older journals)."""
    try:
        with (run_dir / "journal.jsonl").open(encoding="utf-8") as stream:
            first = json.loads(stream.readline())
        recorded = first.get("metric_choice")
        return MetricChoice.model_validate(recorded) if recorded else None
    except (OSError, ValueError, ValidationError):
        return None
