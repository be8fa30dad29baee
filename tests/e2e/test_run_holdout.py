"""`mlmaster run` with holdout selection: every working node has a holdout score, and best/ is
the node that scored best on it (not the one whose own validation printed best); with the blend
(the default), the node both scores choose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlmaster.journal import NodeCommitted, RunEnded, RunStarted, read_events
from mlmaster.selection.compare import compare_run, summary
from mlmaster.selection.final import blend_choice
from mlmaster.selection.inputs import HoldoutInfo


def test_nodes_are_ranked_and_chosen_by_the_holdout(
    suite_dir: Path, tmp_path: Path, cli: Any
) -> None:
    runs = tmp_path / "runs"
    done = cli.run(
        *("run", "diabetes", "--profile", "ci", "--data-dir", str(suite_dir)),
        *("--runs-dir", str(runs), "--time-limit", "3m", "--max-steps", "5"),
        MLMASTER_SELECTION__METHOD="holdout",
        MLMASTER_SELECTION__MIN_HOLDOUT_ROWS="20",  # diabetes holds back 31 rows
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [run_dir] = list((runs / "diabetes").iterdir())
    first_lines = (run_dir / "log.jsonl").read_text().splitlines()[:5]
    assert any('"selection"' in line and "holdout of" in line for line in first_lines)
    events = read_events(run_dir / "journal.jsonl")
    started = events[0]
    assert isinstance(started, RunStarted)
    assert started.selection["ranked_by"] == "holdout"
    held = started.selection["holdout"]["rows_held"]
    assert held > 0
    nodes = [e.node for e in events if isinstance(e, NodeCommitted)]
    working = [n for n in nodes if n.working]
    assert len(working) >= 2
    for node in working:
        assert node.holdout_metric is not None and node.script_metric is not None
        assert node.metric == node.holdout_metric
        kept = run_dir / "nodes" / node.id / "holdout.csv"
        assert len(kept.read_text().splitlines()) == held + 1
    best = json.loads((run_dir / "best" / "node.json").read_text())
    # diabetes is graded by RMSE: lower is better
    assert best["holdout_metric"] == min(n.holdout_metric for n in working)  # type: ignore[type-var]
    assert not (run_dir / "input" / "holdout.csv").is_symlink()
    assert (run_dir / "holdout" / "answers.csv").is_file()
    report = (run_dir / "report.html").read_text()
    assert "nodes are ranked by the holdout score" in report
    assert 'id="selection"' in report  # the holdout-against-script table

    # The same nodes ranked both ways and graded on the private test set.
    comparison = compare_run(run_dir, suite_dir)
    assert comparison is not None and comparison.nodes == len(working)
    assert comparison.by_holdout.node_id == best["id"]
    for pick in (comparison.by_script, comparison.by_holdout):
        assert 0.0 <= pick.position <= 1.0
        assert pick.test_score >= comparison.best_test  # rmse: nothing beats the best
    assert comparison.by_blend is not None  # ranked from the same journal and holdout
    assert "holdout: position" in summary([comparison])


def test_blend_submits_the_node_both_scores_choose(
    suite_dir: Path, tmp_path: Path, cli: Any
) -> None:
    runs = tmp_path / "runs"
    done = cli.run(
        *("run", "diabetes", "--profile", "ci", "--data-dir", str(suite_dir)),
        *("--runs-dir", str(runs), "--time-limit", "4m", "--max-steps", "7"),
        MLMASTER_SELECTION__MIN_HOLDOUT_ROWS="20",  # the default method: blend
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [run_dir] = list((runs / "diabetes").iterdir())
    events = read_events(run_dir / "journal.jsonl")
    started = events[0]
    assert isinstance(started, RunStarted)
    assert started.selection["method"] == "blend"
    assert started.selection["ranked_by"] == "holdout"  # the tree grows as with holdout
    info = HoldoutInfo.model_validate(started.selection["holdout"])
    nodes = [e.node for e in events if isinstance(e, NodeCommitted)]
    for node in nodes:
        if node.working:
            assert node.metric == node.holdout_metric
    choice = blend_choice(nodes, info, lower_is_better=True)
    assert choice.node_id is not None
    best = json.loads((run_dir / "best" / "node.json").read_text())
    assert best["id"] == choice.node_id
    ended = [e for e in events if isinstance(e, RunEnded)]
    assert ended[-1].best == choice.node_id
    log = (run_dir / "log.jsonl").read_text()
    assert '"blend_choice"' in log
    comparison = compare_run(run_dir, suite_dir)
    assert comparison is not None and comparison.by_blend is not None
    assert comparison.by_blend.node_id == choice.node_id


def test_refit_reruns_the_chosen_script_on_every_training_row(
    suite_dir: Path, tmp_path: Path, cli: Any
) -> None:
    runs = tmp_path / "runs"
    done = cli.run(
        *("run", "diabetes", "--profile", "ci", "--data-dir", str(suite_dir)),
        *("--runs-dir", str(runs), "--time-limit", "4m", "--max-steps", "3"),
        MLMASTER_SELECTION__REFIT="true",
        MLMASTER_SELECTION__MIN_HOLDOUT_ROWS="20",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [run_dir] = list((runs / "diabetes").iterdir())
    best = json.loads((run_dir / "best" / "node.json").read_text())
    assert best.get("refit") is True, (run_dir / "log.jsonl").read_text()[-3000:]
    refit = run_dir / "refit"
    # the rerun saw the whole training table, and its submission is the one kept
    assert (refit / "input" / "train.csv").resolve() == (
        suite_dir / "diabetes" / "prepared" / "public" / "train.csv"
    ).resolve()
    refitted = (refit / "workspace" / "submission" / "submission.csv").read_bytes()
    assert (run_dir / "best" / "submission.csv").read_bytes() == refitted
    kept = run_dir / "nodes" / best["id"] / "submission.csv"
    assert kept.read_bytes() != refitted  # trained on more rows: other predictions
