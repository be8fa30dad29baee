"""What a sweep runs: competitions x seeds, each run's resources, and the settings every run
shares. Written once to ``<sweep>/sweep.json`` and read back by ``--resume`` and ``report``."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlmaster.errors import UserError

PLAN_FILE = "sweep.json"
# MLE-bench split files hold one competition id a line; ids are Kaggle slugs.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class Resources(BaseModel):
    """What one run of the sweep is given."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpus: int = Field(ge=1)
    gpus: int = Field(0, ge=0)
    memory: int | None = Field(None, ge=1, description="bytes; Ray's memory resource")


class RunKey(BaseModel):
    """One run of a sweep: a competition and a seed."""

    model_config = ConfigDict(frozen=True)

    competition: str
    seed: int

    @property
    def name(self) -> str:
        return f"{self.competition}/seed-{self.seed}"


class SweepPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    competitions: list[str]
    splits: dict[str, list[str]] = Field(
        default_factory=dict, description="split name -> its competitions (from split files)"
    )
    seeds: list[int]
    backend: str
    resources: Resources
    parallel: int | None = Field(None, ge=1, description="most runs at once (local backend)")
    address: str | None = Field(None, description="Ray cluster address")
    max_retries: int = Field(0, ge=0)
    profile: str | None = None
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="settings every run gets, as nested flags"
    )
    created: float = Field(default_factory=time.time)

    def runs(self) -> list[RunKey]:
        """Every run, seed-major, so that a partial sweep covers all competitions evenly."""
        return [RunKey(competition=c, seed=s) for s in self.seeds for c in self.competitions]

    def save(self, sweep_dir: Path) -> None:
        sweep_dir.mkdir(parents=True, exist_ok=True)
        (sweep_dir / PLAN_FILE).write_text(self.model_dump_json(indent=2) + "\n")

    @classmethod
    def load(cls, sweep_dir: Path) -> SweepPlan:
        path = sweep_dir / PLAN_FILE
        try:
            return cls.model_validate_json(path.read_text())
        except FileNotFoundError:
            raise UserError(
                f"{sweep_dir} is not a sweep directory (no {PLAN_FILE}); "
                "start one with mlmaster sweep --competitions ..."
            ) from None
        except (ValidationError, ValueError) as error:
            first = str(error).splitlines()[0]
            raise UserError(f"{path} is damaged ({first}); it cannot be resumed") from None


def read_split(path: Path) -> list[str]:
    """Competition ids from an MLE-bench split file: one a line; blanks and ``#`` comments
    are skipped. A line that is not an id is an error naming the line."""
    try:
        text = path.read_text()
    except OSError as error:
        raise UserError(f"cannot read the split file {path}: {error.strerror}") from None
    ids: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not _ID.match(line):
            raise UserError(f"{path}:{number}: {line!r} is not a competition id")
        ids.append(line)
    if not ids:
        raise UserError(f"the split file {path} names no competition")
    return ids


def plan_competitions(
    named: list[str], split_files: list[Path]
) -> tuple[list[str], dict[str, list[str]]]:
    """All competitions in order, without repeats, and the splits they came from."""
    splits = {path.stem: read_split(path) for path in split_files}
    for name in named:
        if not _ID.match(name):
            raise UserError(f"{name!r} is not a competition id")
    ordered = list(dict.fromkeys([*named, *(c for ids in splits.values() for c in ids)]))
    if not ordered:
        raise UserError(
            "no competitions to sweep: name them (--competitions a,b or "
            "MLMASTER_SWEEP__COMPETITIONS) or give a split file (--split FILE)"
        )
    return ordered, splits


def dumps_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """Flags as plain JSON (paths become strings), without empty values."""
    clean: dict[str, Any] = {}
    for group, values in overrides.items():
        kept = {k: v for k, v in values.items() if v is not None}
        if kept:
            clean[group] = json.loads(json.dumps(kept, default=str))
    return clean
