"""A sweep's plan: split files, competition lists, the settings group from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlmaster.errors import UserError
from mlmaster.settings import load_settings
from mlmaster.sweep.plan import Resources, RunKey, SweepPlan, plan_competitions, read_split


def test_split_files_read_like_mlebench_splits(tmp_path: Path) -> None:
    split = tmp_path / "low.txt"
    split.write_text("# lite split\nspaceship-titanic\n\n  aerial-cactus-identification  \n")
    assert read_split(split) == ["spaceship-titanic", "aerial-cactus-identification"]
    ids, splits = plan_competitions(["digits", "spaceship-titanic"], [split])
    assert ids == ["digits", "spaceship-titanic", "aerial-cactus-identification"]
    assert splits == {"low": ["spaceship-titanic", "aerial-cactus-identification"]}


@pytest.mark.parametrize(
    ("text", "message"),
    [("a b\n", "s.txt:1: 'a b' is not a competition id"), ("# nothing\n", "names no competition")],
)
def test_bad_split_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    split = tmp_path / "s.txt"
    split.write_text(text)
    with pytest.raises(UserError, match=message):
        read_split(split)


def test_a_missing_split_file_and_no_competitions_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read the split file"):
        read_split(tmp_path / "absent.txt")
    with pytest.raises(UserError, match="no competitions to sweep"):
        plan_competitions([], [])


def test_runs_are_seed_major_and_the_plan_round_trips(tmp_path: Path) -> None:
    plan = SweepPlan(
        competitions=["a", "b"],
        seeds=[0, 1],
        backend="local",
        resources=Resources(cpus=2),
        overrides={"budget": {"time_limit": "1h"}},
    )
    assert [k.name for k in plan.runs()] == ["a/seed-0", "b/seed-0", "a/seed-1", "b/seed-1"]
    plan.save(tmp_path)
    assert SweepPlan.load(tmp_path) == plan
    assert RunKey(competition="a", seed=1) in plan.runs()


def test_a_damaged_or_absent_plan_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is not a sweep directory"):
        SweepPlan.load(tmp_path)
    (tmp_path / "sweep.json").write_text("{not json")
    with pytest.raises(UserError, match="is damaged"):
        SweepPlan.load(tmp_path)


def test_sweep_settings_come_from_the_environment() -> None:
    settings = load_settings(
        environ={
            "MLMASTER_SWEEP__COMPETITIONS": "digits, diabetes",
            "MLMASTER_SWEEP__SEEDS": "3",
            "MLMASTER_SWEEP__BACKEND": "ray",
            "MLMASTER_SWEEP__MEMORY_PER_RUN": "16G",
        }
    )
    assert settings.sweep.competitions == ["digits", "diabetes"]
    assert settings.sweep.seeds == 3
    assert settings.sweep.backend == "ray"
    assert settings.sweep.memory_per_run == 16 * 1024**3
