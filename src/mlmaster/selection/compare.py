"""Holdout selection against script selection, graded on the private test set.

For finished runs whose nodes carry both scores, rank the same valid nodes three ways (the
script's own score, the holdout score, and the blend of both that ``selection.method = blend``
submits), grade each way's choice (and every other valid node) on the competition's private
answers, and say where each choice lands between the tree's worst and best node on the test set
(1.0: the best node the search found; 0.0: the worst valid one)::

    python -m mlmaster.selection.compare --data-dir data runs/diabetes/* runs/digits/*

Every choice comes from the same trees, so only the selection differs (the tree itself was
grown by whatever the run ranked by). The summary ends with the paired difference of each
way's position against the script's, with a 95% interval over the runs.
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
from mlmaster.selection.final import blend_choice
from mlmaster.selection.inputs import HoldoutInfo


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
    by_blend: Pick | None = None  # None: the run kept no holdout answers
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

    def placed(chosen: str) -> Pick:
        score = graded[chosen]
        span = best - worst
        return Pick(
            node_id=chosen,
            test_score=score,
            position=1.0 if span == 0 else (score - worst) / span,
        )

    def pick(criterion: str) -> Pick:
        # The first node to reach the best score wins a tie, as the tree breaks ties.
        sign = 1.0 if lower else -1.0
        return placed(min(kept, key=lambda n: sign * float(getattr(n, criterion))).id)

    by_blend = None
    info_file = run.holdout_dir / "holdout.json"
    if info_file.is_file():
        info = HoldoutInfo.model_validate_json(info_file.read_text(encoding="utf-8"))
        choice = blend_choice(kept, info, lower_is_better=lower)
        by_blend = placed(choice.node_id) if choice.node_id else None

    return RunComparison(
        competition=competition.spec.id,
        run_dir=str(run_dir),
        lower_is_better=lower,
        nodes=len(kept),
        by_script=pick("script_metric"),
        by_holdout=pick("holdout_metric"),
        by_blend=by_blend,
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


WAYS = ("script", "holdout", "blend")


def _picks(c: RunComparison) -> dict[str, Pick]:
    found = {"script": c.by_script, "holdout": c.by_holdout}
    if c.by_blend is not None:
        found["blend"] = c.by_blend
    return found


def paired_interval(differences: list[float]) -> tuple[float, float]:
    """Mean and 95% half-width (normal) of paired differences."""
    mean = statistics.fmean(differences)
    if len(differences) < 2:
        return mean, 0.0
    return mean, 1.96 * statistics.stdev(differences) / len(differences) ** 0.5


def _against(comparisons: list[RunComparison], way: str, other: str) -> str | None:
    """One way's pick against another's over the runs that have both: mean position, the
    paired difference with its 95% interval, and the runs where it was better/same/worse."""
    both = [c for c in comparisons if way in _picks(c) and other in _picks(c)]
    if not both:
        return None
    differences = [_picks(c)[way].position - _picks(c)[other].position for c in both]
    mean, half = paired_interval(differences)
    better = same = worse = 0
    for c in both:
        mine, theirs = _picks(c)[way].test_score, _picks(c)[other].test_score
        if mine == theirs:
            same += 1
        elif (mine < theirs) == c.lower_is_better:
            better += 1
        else:
            worse += 1
    position = statistics.fmean(_picks(c)[way].position for c in both)
    return (
        f"{way}: position {position:.3f} over {len(both)} runs; minus {other}'s "
        f"{mean:+.3f} (95% interval {mean - half:+.3f} to {mean + half:+.3f}); "
        f"better {better}, same {same}, worse {worse}"
    )


def summary(comparisons: list[RunComparison]) -> str:
    """One line a run, the means per competition, then each way against the script's pick:
    mean position, the paired difference with its 95% interval, and better/same/worse runs."""
    lines = ["competition  run  nodes  " + "  ".join(f"{w}-pick test (pos)" for w in WAYS)]
    for c in comparisons:
        picks = _picks(c)
        cells = [
            f"{picks[w].test_score:.6g} ({picks[w].position:.2f})" if w in picks else "-"
            for w in WAYS
        ]
        lines.append(
            f"{c.competition}  {Path(c.run_dir).name}  {c.nodes}  "
            + "  ".join(cells)
            + f"  best {c.best_test:.6g}"
        )
    for name in sorted({c.competition for c in comparisons}):
        mine = [c for c in comparisons if c.competition == name]
        means = []
        for way in WAYS:
            tests = [_picks(c)[way].test_score for c in mine if way in _picks(c)]
            if tests:
                means.append(f"{way} {statistics.mean(tests):.5g}")
        best = statistics.mean(c.best_test for c in mine)
        lines.append(
            f"{name}: mean test score of the pick over {len(mine)} runs: "
            + ", ".join(means)
            + f" (tree's best {best:.5g})"
        )
    if not comparisons:
        return "\n".join(lines)
    lines.append(
        f"mean position between the worst (0) and best (1) valid node on the test set, "
        f"over {len(comparisons)} runs: script "
        f"{statistics.fmean(c.by_script.position for c in comparisons):.3f}"
    )
    for way, against in (("holdout", "script"), ("blend", "script"), ("blend", "holdout")):
        line = _against(comparisons, way, against)
        if line:
            lines.append(line)
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
