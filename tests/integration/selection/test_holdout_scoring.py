"""Holdout predictions: scored with the competition's metric, never read through a link, and
the held answers out of a real script's reach in the real sandbox."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlmaster.competition.layout import Competition, load_competition
from mlmaster.competition.spec import CompetitionSpec
from mlmaster.execution.runner import Executor
from mlmaster.execution.workspace import Workspace
from mlmaster.selection.setup import Selection, prepare_selection
from mlmaster.settings.model import ExecutionSettings, SelectionSettings
from mlmaster.testing.bwrap import bwrap_problem

_BWRAP_PROBLEM = bwrap_problem()
needs_bwrap = pytest.mark.skipif(
    _BWRAP_PROBLEM is not None, reason=f"bubblewrap unusable here: {_BWRAP_PROBLEM}"
)


def selection_for(competition: Competition, run: Path) -> Selection:
    selection = prepare_selection(
        # diabetes holds back 31 rows: enough to test scoring, below the default minimum
        SelectionSettings(min_holdout_rows=20),
        competition,
        run / "input",
        run / "holdout",
        seed=0,
    )
    assert selection.derived is not None, selection.no_holdout
    return selection


def workspace(selection: Selection, run: Path) -> Workspace:
    return Workspace.create(
        run / "nodes" / uuid.uuid4().hex[:8] / "workspace",
        selection.public_dir,
        selection.also_readable,
        selection.overlays,
    )


def test_the_held_answers_score_best_and_a_constant_scores_worse(
    diabetes: Competition, tmp_path: Path
) -> None:
    selection = selection_for(diabetes, tmp_path)
    assert selection.derived is not None
    answers = pd.read_csv(selection.derived.answers)
    ws = workspace(selection, tmp_path)
    answers.to_csv(ws.submission_dir / "holdout.csv", index=False)
    perfect = selection.score(ws.root, tmp_path / "kept.csv")
    assert perfect is not None and perfect.score == 0.0  # rmse of the truth itself
    assert (tmp_path / "kept.csv").read_bytes() == (ws.submission_dir / "holdout.csv").read_bytes()
    target = diabetes.spec.target_columns[0]
    answers.assign(**{target: answers[target].mean()}).to_csv(
        ws.submission_dir / "holdout.csv", index=False
    )
    constant = selection.score(ws.root, tmp_path / "kept.csv")
    assert constant is not None and constant.score is not None and constant.score > 10


def test_missing_rows_and_wrong_columns_are_problems_not_scores(
    diabetes: Competition, tmp_path: Path
) -> None:
    selection = selection_for(diabetes, tmp_path)
    assert selection.derived is not None
    answers = pd.read_csv(selection.derived.answers)
    ws = workspace(selection, tmp_path)
    answers.iloc[1:].to_csv(ws.submission_dir / "holdout.csv", index=False)
    short = selection.score(ws.root, tmp_path / "kept.csv")
    assert short is not None and short.score is None
    assert short.problem is not None and "missing" in short.problem
    answers.rename(columns={"progression": "y"}).to_csv(
        ws.submission_dir / "holdout.csv", index=False
    )
    renamed = selection.score(ws.root, tmp_path / "kept.csv")
    assert renamed is not None and renamed.problem is not None
    assert "column" in renamed.problem


def test_none_written_is_a_problem(diabetes: Competition, tmp_path: Path) -> None:
    selection = selection_for(diabetes, tmp_path)
    scored = selection.score(workspace(selection, tmp_path).root, tmp_path / "kept.csv")
    assert scored is not None and scored.problem == "no submission/holdout.csv written"


def test_links_to_the_answers_are_never_followed(diabetes: Competition, tmp_path: Path) -> None:
    selection = selection_for(diabetes, tmp_path)
    assert selection.derived is not None
    ws = workspace(selection, tmp_path)
    (ws.submission_dir / "holdout.csv").symlink_to(selection.derived.answers)
    linked = selection.score(ws.root, tmp_path / "kept.csv")
    assert linked is not None and linked.score is None
    assert linked.problem is not None and "symbolic link" in linked.problem
    # the whole submission folder swapped for a link to the answers' folder
    shutil.rmtree(ws.submission_dir)
    ws.submission_dir.symlink_to(selection.derived.answers.parent)
    (selection.derived.answers.parent / "holdout.csv").symlink_to(selection.derived.answers)
    swapped = selection.score(ws.root, tmp_path / "kept.csv")
    assert swapped is not None and swapped.score is None
    assert not (tmp_path / "kept.csv").exists()


HOSTILE = """\
import os
for path in [{answers!r}, {private!r}, {info!r}]:
    try:
        open(path).read()
        print("READ", path)
    except OSError as exc:
        print("DENIED", path, type(exc).__name__)
found = []
for top, dirs, files in os.walk("/"):
    if top == "/":  # the system folders hold no data: skip them (and their size)
        dirs[:] = [d for d in dirs if d not in ("usr", "proc", "sys", "dev", "etc", "opt")]
    found += [os.path.join(top, f) for f in files if f == "answers.csv"]
print("FOUND", sorted(found))
print("TEST", open("input/test.csv").readline().strip())
print("HELD", open("input/holdout.csv").readline().strip())
print("ORIGINAL", {original!r}, sum(1 for _ in open({original!r})))
try:
    os.symlink({answers!r}, "submission/holdout.csv")
    print("LINKED")
except OSError as exc:
    print("NOLINK", type(exc).__name__)
"""


@needs_bwrap
async def test_a_script_in_the_sandbox_reads_the_links_but_never_the_held_targets(
    diabetes: Competition, tmp_path: Path
) -> None:
    run = tmp_path / "runs" / "diabetes" / "run1"
    selection = selection_for(diabetes, run)
    assert selection.derived is not None
    answers = selection.derived.answers
    private = diabetes.paths.private_dir / diabetes.spec.answers_file
    ws = workspace(selection, run)
    original = diabetes.paths.public_dir.resolve() / "train.csv"
    ws.write_script(
        HOSTILE.format(
            answers=str(answers),
            private=str(private),
            info=str(answers.parent),
            original=str(original),
        )
    )
    executor = Executor(ExecutionSettings(sandbox="bwrap", kill_grace=0.3))
    result = await executor.run(ws, timeout=120)
    out = result.stdout.text
    assert result.exit_code == 0, result.stderr.text
    assert "READ" not in out
    assert out.count("DENIED") == 3
    assert "FOUND []" in out  # no answers file anywhere the script can look
    assert "TEST id,age" in out  # a linked public file resolves inside the sandbox
    assert "HELD id,age" in out and "progression" not in out.split("HELD")[1].split("\n")[0]
    # The real training table (mounted so the links resolve) shows the kept rows only.
    assert f"ORIGINAL {original} {selection.derived.info.rows_kept + 1}\n" in out
    # It may plant a link to the answers' path; scoring refuses to follow it.
    assert "LINKED" in out
    scored = selection.score(ws.root, run / "kept.csv")
    assert scored is not None and scored.score is None and "symbolic link" in (scored.problem or "")


@pytest.fixture
def authors(tmp_path: Path) -> Competition:
    """Spooky-author-like: train.csv holds each text's author, the submission wants one
    probability column per author."""
    root = tmp_path / "data" / "authors"
    public, private = root / "prepared" / "public", root / "prepared" / "private"
    public.mkdir(parents=True)
    private.mkdir(parents=True)
    names = ["EAP", "HPL", "MWS"]
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {
            "id": [f"id{i:04d}" for i in range(600)],
            "text": [f"a sentence {i}" for i in range(600)],
            "author": rng.choice(names, size=600),
        }
    ).to_csv(public / "train.csv", index=False)
    test_ids = [f"te{i:03d}" for i in range(50)]
    pd.DataFrame({"id": test_ids, "text": ["words"] * 50}).to_csv(public / "test.csv", index=False)
    uniform = pd.DataFrame({"id": test_ids, **{n: [1 / 3] * 50 for n in names}})
    uniform.to_csv(public / "sample_submission.csv", index=False)
    uniform.to_csv(private / "answers.csv", index=False)
    spec = CompetitionSpec(
        id="authors",
        name="Authors",
        metric="log_loss",
        lower_is_better=True,
        id_column="id",
        target_columns=names,
        task_type="multiclass",
    )
    (root / "competition.json").write_text(spec.model_dump_json(indent=2))
    return load_competition(tmp_path / "data", "authors")


def test_a_class_column_becomes_one_hot_held_answers_scored_as_probabilities(
    authors: Competition, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    selection = selection_for(authors, run)
    assert selection.derived is not None
    info = selection.derived.info
    assert info.class_column == "author" and info.how == "stratified on author"
    shown = pd.read_csv(selection.public_dir / "holdout.csv", dtype=str)
    assert list(shown.columns) == ["id", "text"]  # the test table's columns: no author
    kept = pd.read_csv(selection.public_dir / "train.csv", dtype=str)
    assert set(kept["id"]).isdisjoint(shown["id"]) and len(kept) + len(shown) == 600
    answers = pd.read_csv(selection.derived.answers, dtype={"id": str})
    assert list(answers.columns) == ["id", "EAP", "HPL", "MWS"]
    assert (answers[["EAP", "HPL", "MWS"]].sum(axis=1) == 1).all()
    truth = pd.read_csv(authors.paths.public_dir / "train.csv").set_index("id")["author"]
    assert (answers.set_index("id").idxmax(axis=1) == truth.loc[answers["id"]]).all()

    ws = workspace(selection, run)
    answers.to_csv(ws.submission_dir / "holdout.csv", index=False)
    perfect = selection.score(ws.root, tmp_path / "kept.csv")
    assert perfect is not None and perfect.score is not None and perfect.score < 1e-6
    answers.assign(EAP=1 / 3, HPL=1 / 3, MWS=1 / 3).to_csv(
        ws.submission_dir / "holdout.csv", index=False
    )
    uniform = selection.score(ws.root, tmp_path / "kept.csv")
    assert uniform is not None and uniform.score == pytest.approx(np.log(3))
