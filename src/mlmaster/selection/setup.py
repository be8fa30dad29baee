"""A run's selection, decided once at its start: the holdout (or why none) and how nodes rank.

::

    selection = prepare_selection(settings.selection, competition, input_dir, holdout_dir, seed)
    selection.public_dir       # what scripts and prompts see as ./input
    selection.rank_by_holdout  # the tree ranks (and best/ is chosen) by the holdout score
    selection.blends           # ...except the final choice, by the blend of both scores
    selection.score(workspace, keep_as)   # a node's holdout score, or why it has none
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mlmaster.competition.layout import Competition
from mlmaster.selection.holdout import NoHoldout
from mlmaster.selection.inputs import DerivedInput, HoldoutInfo, derive_input
from mlmaster.selection.scoring import HoldoutScore, held_answers, score_node
from mlmaster.settings.model import SelectionSettings


@dataclass(frozen=True)
class Selection:
    """The holdout of one run and the ranking it implies."""

    competition: Competition
    method: str  # the configured method: holdout or script
    derived: DerivedInput | None = None
    no_holdout: str | None = None  # why no holdout was carved
    cap: int = 1024**3  # the largest predictions file taken (execution.submission_cap)
    _answers: list[pd.DataFrame] = field(default_factory=list, repr=False)  # read once, lazily

    @property
    def public_dir(self) -> Path:
        return self.derived.input_dir if self.derived else self.competition.paths.public_dir

    @property
    def also_readable(self) -> tuple[Path, ...]:
        return (self.derived.source_dir,) if self.derived else ()

    @property
    def overlays(self) -> tuple[tuple[Path, Path], ...]:
        """The kept rows shown over the real training table, which the sandbox mounts for the
        links: by its absolute path a script must not find the held rows' targets either."""
        if self.derived is None:
            return ()
        name = self.derived.info.train_file
        return ((self.derived.input_dir / name, self.derived.source_dir / name),)

    @property
    def holdout(self) -> HoldoutInfo | None:
        return self.derived.info if self.derived else None

    @property
    def rank_by_holdout(self) -> bool:
        """The tree ranks by the holdout score (``blend`` too: it differs only at the end)."""
        return self.derived is not None and self.method in ("holdout", "blend")

    @property
    def blends(self) -> bool:
        """The submitted node is chosen by :mod:`mlmaster.selection.blend`."""
        return self.derived is not None and self.method == "blend"

    def line(self) -> str:
        """One line for the log's head and the report."""
        return selection_line(self.record())

    def record(self) -> dict[str, Any]:
        """What the run's first journal event keeps of it."""
        return {
            "method": self.method,
            "ranked_by": "holdout" if self.rank_by_holdout else "script",
            "holdout": self.derived.info.model_dump(mode="json") if self.derived else None,
            "no_holdout": self.no_holdout,
        }

    def score(self, workspace: Path, keep_as: Path) -> HoldoutScore | None:
        """The node's holdout score (``None`` when the run has no holdout). Blocking I/O."""
        if self.derived is None:
            return None
        if not self._answers:
            self._answers.append(held_answers(self.derived.answers, self.competition))
        return score_node(self.competition, self._answers[0], workspace, keep_as, self.cap)


def selection_line(record: dict[str, Any]) -> str:
    """What a run's selection record (``Selection.record()``) says, in one line."""
    held = record.get("holdout")
    if not held:
        why = record.get("no_holdout") or "none recorded"
        return f"no holdout ({why}); nodes are ranked by their scripts' own scores"
    info = HoldoutInfo.model_validate(held)
    ranked = (
        "the holdout score"
        if record.get("ranked_by") == "holdout"
        else "their scripts' own scores (holdout recorded)"
    )
    if record.get("method") == "blend" and record.get("ranked_by") == "holdout":
        ranked += "; the node submitted by the blend of both scores"
    return (
        f"holdout of {info.rows_held} of {info.rows_kept + info.rows_held} rows of "
        f"{info.train_file} ({info.how}, seed {info.seed}); nodes are ranked by {ranked}"
    )


def prepare_selection(
    settings: SelectionSettings,
    competition: Competition,
    input_dir: Path,
    holdout_dir: Path,
    seed: int,
    cap: int = 1024**3,
) -> Selection:
    """Carve (or reuse) the run's holdout, unless selection is by the script's score alone."""
    if settings.method == "script":
        return Selection(competition, "script", no_holdout="selection.method = script")
    derived = derive_input(
        competition.paths.public_dir,
        input_dir,
        holdout_dir,
        competition.spec,
        fraction=settings.holdout_fraction,
        seed=seed,
        group_column=settings.group_column,
        min_held=settings.min_holdout_rows,
    )
    if isinstance(derived, NoHoldout):
        return Selection(competition, settings.method, no_holdout=derived.reason)
    return Selection(competition, settings.method, derived=derived, cap=cap)
