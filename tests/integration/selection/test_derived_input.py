"""The derived input folder on a real bundled competition: links, kept rows, held rows."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from mlmaster.competition.layout import Competition
from mlmaster.selection.holdout import NoHoldout
from mlmaster.selection.inputs import DerivedInput, derive_input
from mlmaster.selection.setup import prepare_selection
from mlmaster.settings.model import SelectionSettings


def derive(competition: Competition, run: Path, **changes: object) -> DerivedInput | NoHoldout:
    options: dict[str, object] = {"fraction": 0.1, "seed": 0} | changes
    return derive_input(
        competition.paths.public_dir,
        run / "input",
        run / "holdout",
        competition.spec,
        **options,  # type: ignore[arg-type]
    )


def test_scripts_see_every_public_file_the_kept_rows_and_the_held_rows_without_targets(
    digits: Competition, tmp_path: Path
) -> None:
    derived = derive(digits, tmp_path)
    assert isinstance(derived, DerivedInput)
    public, spec = digits.paths.public_dir, digits.spec
    [target] = spec.target_columns
    names = {p.name for p in derived.input_dir.iterdir()}
    assert names == {p.name for p in public.iterdir()} | {"holdout.csv"}
    for name in names - {"train.csv", "holdout.csv"}:
        link = derived.input_dir / name
        assert link.is_symlink() and link.resolve() == (public / name).resolve()
    train = pd.read_csv(public / "train.csv", dtype=str)
    kept = pd.read_csv(derived.input_dir / "train.csv", dtype=str)
    shown = pd.read_csv(derived.input_dir / "holdout.csv", dtype=str)
    answers = pd.read_csv(derived.answers, dtype=str)
    assert len(kept) + len(shown) == len(train)
    assert derived.info.rows_held == len(shown) == len(answers)
    assert set(kept[spec.id_column]).isdisjoint(shown[spec.id_column])
    assert list(shown.columns) == list(pd.read_csv(public / "test.csv", nrows=0).columns)
    assert target not in shown.columns
    assert list(answers.columns) == [spec.id_column, target]
    # Every kept cell is the competition's own text.
    original = train.set_index(spec.id_column).loc[kept[spec.id_column]]
    assert (original.reset_index()[list(kept.columns)].to_numpy() == kept.to_numpy()).all()
    assert derived.info.how == f"stratified on {target}"
    assert derived.input_dir not in derived.answers.parents


def test_a_second_call_reuses_the_folder_as_it_is(digits: Competition, tmp_path: Path) -> None:
    first = derive(digits, tmp_path)
    assert isinstance(first, DerivedInput)
    stamp = os.stat(first.input_dir / "train.csv").st_mtime_ns
    again = derive(digits, tmp_path, fraction=0.3)  # a resume: its settings cannot move it
    assert isinstance(again, DerivedInput)
    assert again.info == first.info
    assert os.stat(again.input_dir / "train.csv").st_mtime_ns == stamp


def test_no_training_table_means_no_holdout_and_says_so(
    digits: Competition, tmp_path: Path
) -> None:
    bare = tmp_path / "public"
    bare.mkdir()
    (bare / "test.csv").write_text("id,x\n1,2\n")
    competition = digits.model_copy(
        update={"paths": digits.paths.model_copy(update={"public_dir": bare})}
    )
    selection = prepare_selection(
        SelectionSettings(), competition, tmp_path / "run" / "input", tmp_path / "run" / "h", 0
    )
    assert selection.derived is None and not selection.rank_by_holdout
    assert selection.public_dir == bare
    assert "no training table" in selection.line()
    assert not (tmp_path / "run" / "input").exists()


def test_a_holdout_too_small_to_rank_by_is_not_carved(
    diabetes: Competition, tmp_path: Path
) -> None:
    selection = prepare_selection(
        SelectionSettings(), diabetes, tmp_path / "input", tmp_path / "h", 0
    )
    assert selection.derived is None and not selection.rank_by_holdout
    assert "31 rows, too few to rank" in selection.line()
    assert "selection.min_holdout_rows = 100" in selection.line()


def test_a_table_too_large_to_read_whole_gets_no_holdout(
    digits: Competition, tmp_path: Path
) -> None:
    refused = derive(digits, tmp_path, max_bytes=1000)
    assert isinstance(refused, NoHoldout)
    assert "MiB the holdout reads into memory" in refused.reason
    assert not (tmp_path / "input").exists()


def test_method_script_carves_nothing(diabetes: Competition, tmp_path: Path) -> None:
    selection = prepare_selection(
        SelectionSettings(method="script"), diabetes, tmp_path / "input", tmp_path / "h", 0
    )
    assert selection.derived is None and selection.public_dir == diabetes.paths.public_dir
    assert not (tmp_path / "input").exists()
