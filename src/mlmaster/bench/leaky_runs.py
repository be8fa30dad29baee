"""One run of the real orchestrator with the leaky coder, for the selection benchmark.

The run is a ``mlmaster run`` in every part (settings, the holdout, executor, sandbox, the
offline reviewer, journal, best/) except its coder: the offline coder's scripts, some made to
leak by :mod:`mlmaster.bench.leaky_coder`. Compare its picks afterwards with
``python -m mlmaster.selection.compare``::

    python -m mlmaster.bench.leaky_runs telco-churn --data-dir data --runs-dir /tmp/leaky \\
        --seed 0 --time-limit 150s --slots 1 --cpus 0
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import anyio

from mlmaster.api import competition_for
from mlmaster.bench.leaky_coder import LeakRates, LeakyCoder
from mlmaster.llm.pool import build_coder
from mlmaster.settings import Settings, load_settings


def leaky_settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "run": {
            "competition": args.competition,
            "data_dir": str(args.data_dir),
            "runs_dir": str(args.runs_dir),
            "seed": args.seed,
        },
        "budget": {"time_limit": args.time_limit},
        "execution": {"slots": args.slots, "cpus": args.cpus},
        "llm": {"coder": {"provider": "offline"}, "feedback": {"provider": "offline"}},
    }
    return load_settings(profile=args.profile, overrides=overrides)


async def run_leaky(settings: Settings, rates: LeakRates) -> int:
    """The run's exit code (0: it ended with a submission)."""
    # Imported here as the CLI does: the orchestrator is heavy.
    from mlmaster.llm.metric_reading import settle_metric
    from mlmaster.orchestrator.run import open_run, search

    competition, choice = await settle_metric(settings, competition_for(settings), None)
    coder = LeakyCoder(build_coder(settings), rates)
    async with open_run(settings, competition, metric_choice=choice, coder=coder) as state:
        outcome = await search(state)
    return outcome.exit_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("competition")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--runs-dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", default="150s")
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--slots", type=int, default=1)
    parser.add_argument("--cpus", default="all")
    args = parser.parse_args(argv)
    return anyio.run(run_leaky, leaky_settings(args), LeakRates())


if __name__ == "__main__":
    sys.exit(main())
