"""Holdout selection against script selection, graded on the private test set.

For finished runs whose nodes carry both scores, rank the same valid nodes both ways, grade
each way's choice (and every other valid node) on the competition's private answers, and say
where each choice lands between the tree's worst and best node on the test set (1.0: the best
node the search found; 0.0: the worst valid one)::

    python -m mlmaster.selection.compare --data-dir data runs/diabetes/* runs/digits/*

Both choices come from the same trees, so only the selection differs (the tree itself was
grown by whatever the run ranked by).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from pydantic import BaseModel

from mlmaster.competition.grading import grade_submission
from mlmaster.competition.layout import Competition, load_competition
from mlmaster.journal import NodeCommitted, RunDir, RunStarted, read_events
from mlmaster.search.node import Node


class Pick(BaseModel):
    node_id: str
    test_score: float
    position: float  # 0: the worst valid node on the test set, 1: the best


class RunComparison(BaseModel):
    competition: str
    run_dir: str
    lower_is_better: bool
    nodes: int  # valid nodes with both scores and a gradable submission
    by_script: Pick
    by_holdout: Pick
    best_test: float


def compare_run(run_dir: Path, data_dir: Path) -> RunComparison | None:
    """The comparison for one run, or None when fewer than two nodes carry both scores."""
    run = RunDir.existing(run_dir)
    events = read_events(run.journal)
    started = next((e for e in events if isinstance(e, RunStarted)), None)
    if started is None:
        return None
    competition = load_competition(data_dir, started.competition)
    lower = competition.spec.lower_is_better
    nodes = [
        e.node
        for e in events
        if isinstance(e, NodeCommitted)
        and e.node.working
        and e.node.script_metric is not None
        and e.node.holdout_metric is not None
    ]
    graded = _graded(run, competition, nodes)
    if len(graded) < 2:
        return None
    tests = list(graded.values())
    best, worst = (min(tests), max(tests)) if lower else (max(tests), min(tests))
    kept = [n for n in nodes if n.id in graded]

    def pick(criterion: str) -> Pick:
        # The first node to reach the best score wins a tie, as the tree breaks ties.
        sign = 1.0 if lower else -1.0
        chosen = min(kept, key=lambda n: sign * float(getattr(n, criterion)))
        score = graded[chosen.id]
        span = best - worst
        return Pick(
            node_id=chosen.id,
            test_score=score,
            position=1.0 if span == 0 else (score - worst) / span,
        )

    return RunComparison(
        competition=competition.spec.id,
        run_dir=str(run_dir),
        lower_is_better=lower,
        nodes=len(kept),
        by_script=pick("script_metric"),
        by_holdout=pick("holdout_metric"),
        best_test=best,
    )


def _graded(run: RunDir, competition: Competition, nodes: list[Node]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for node in nodes:
        path = run.node(node.id).find_submission()
        if path is None:
            continue
        report = grade_submission(competition, path)
        if report.valid_submission and report.score is not None:
            scores[node.id] = float(report.score)
    return scores


def summary(comparisons: list[RunComparison]) -> str:
    """One line a run, then the means and the win/tie/loss count of holdout over script."""
    lines = ["competition  run  nodes  script-pick test (pos)  holdout-pick test (pos)  best"]
    wins = ties = losses = 0
    for c in comparisons:
        s, h = c.by_script, c.by_holdout
        lines.append(
            f"{c.competition}  {Path(c.run_dir).name}  {c.nodes}  "
            f"{s.test_score:.6g} ({s.position:.2f})  {h.test_score:.6g} ({h.position:.2f})  "
            f"{c.best_test:.6g}"
        )
        if h.test_score == s.test_score:
            ties += 1
        elif (h.test_score < s.test_score) == c.lower_is_better:
            wins += 1
        else:
            losses += 1
    for name in sorted({c.competition for c in comparisons}):
        mine = [c for c in comparisons if c.competition == name]
        script = statistics.mean(c.by_script.test_score for c in mine)
        holdout = statistics.mean(c.by_holdout.test_score for c in mine)
        best = statistics.mean(c.best_test for c in mine)
        lines.append(
            f"{name}: mean test score of the pick over {len(mine)} runs: script {script:.5g}, "
            f"holdout {holdout:.5g} (tree's best {best:.5g})"
        )
    if comparisons:
        script_pos = statistics.mean(c.by_script.position for c in comparisons)
        holdout_pos = statistics.mean(c.by_holdout.position for c in comparisons)
        lines.append(
            f"mean position between the worst (0) and best (1) valid node on the test set: "
            f"script {script_pos:.3f}, holdout {holdout_pos:.3f} over {len(comparisons)} runs; "
            f"holdout better {wins}, same {ties}, worse {losses}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("runs", type=Path, nargs="+")
    args = parser.parse_args(argv)
    found = [compare_run(run, args.data_dir) for run in args.runs]
    comparisons = [c for c in found if c is not None]
    print(summary(comparisons))
    return 0 if comparisons else 1


if __name__ == "__main__":
    sys.exit(main())
