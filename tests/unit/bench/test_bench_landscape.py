"""The simulated coder follows its stated model, and the landscape scenario reports it."""

from __future__ import annotations

import statistics

from mlmaster.bench.search_landscape import (
    Interval,
    LandscapeConfig,
    interval,
    run_landscape,
    summarise,
)
from mlmaster.bench.simulated_coder import Landscape, SimulatedRun, simulate_run
from mlmaster.settings.model import SearchSettings


def grow(
    policy: str = "ml-master", nodes: int = 300, seed: int = 0, **model: float
) -> SimulatedRun:
    return simulate_run(
        SearchSettings(policy=policy),
        Landscape(**model),
        nodes=nodes,
        competition=seed,
        seed=seed,
    )


def test_a_run_grows_the_real_tree_to_the_node_count() -> None:
    run = grow(nodes=250)
    assert run.tree.counts().done == 250 and run.tree.in_flight() == 0
    assert set(run.truth) == set(run.tree.nodes) - {run.tree.root_id}


def test_runs_are_seeded() -> None:
    a, b = grow(seed=4), grow(seed=4)
    assert [n.metric for n in a.tree.nodes.values()] == [n.metric for n in b.tree.nodes.values()]
    assert [n.metric for n in grow(seed=5).tree.nodes.values()] != [
        n.metric for n in a.tree.nodes.values()
    ]


def test_no_node_scores_past_its_approach_or_gold() -> None:
    run = grow(nodes=400)
    assert all(t.score <= t.ceiling <= run.gold for t in run.truth.values())


def test_bug_rates_follow_the_model() -> None:
    run = grow(nodes=2000, draft_bug_rate=0.0, improve_bug_rate=0.5, debug_fix_rate=1.0)
    nodes = [n for n in run.tree.nodes.values() if n.operator != "root"]
    drafts = [n for n in nodes if n.operator == "draft"]
    improves = [n for n in nodes if n.operator == "improve"]
    debugs = [n for n in nodes if n.operator == "debug"]
    assert not any(n.buggy for n in drafts) and not any(n.buggy for n in debugs)
    assert 0.4 < sum(n.buggy for n in improves) / len(improves) < 0.6


def test_script_validation_is_optimistic_and_the_holdout_is_not() -> None:
    run = grow(nodes=1500, optimism_mean=0.1, validation_noise=0.01, holdout_noise=0.01)
    working = run.working()
    optimism = [n.metric - run.truth[n.id].score for n in working if n.metric is not None]
    holdout = [run.truth[n.id].holdout - run.truth[n.id].score for n in working]
    assert 0.08 < statistics.fmean(optimism) < 0.12
    assert abs(statistics.fmean(holdout)) < 0.01


def test_selection_by_holdout_picks_the_best_holdout_score() -> None:
    run = grow(nodes=300)
    chosen = run.selected_by_holdout()
    assert chosen is not None
    assert run.truth[chosen.id].holdout == max(run.truth[n.id].holdout for n in run.working())
    assert run.selected_by_script() is run.tree.best_node()
    assert 0 < run.normalised(chosen) <= 1.0


def test_selection_by_blend_follows_whichever_score_the_model_makes_precise() -> None:
    # precise honest scripts, a noisy holdout: the blend submits what the scripts rank first
    precise = grow(nodes=300, optimism_mean=1e-6, validation_noise=1e-4, holdout_noise=0.05)
    assert precise.selected_by_blend() is precise.selected_by_script()
    assert precise.normalised(precise.selected_by_blend()) >= precise.normalised(
        precise.selected_by_holdout()
    )
    # scripts far more optimistic than their noise: the leaky ones are judged by the holdout
    leaky = grow(nodes=300, optimism_mean=0.3, validation_noise=0.01, holdout_noise=0.01)
    blend, script = leaky.selected_by_blend(), leaky.selected_by_script()
    assert leaky.normalised(blend) > leaky.normalised(script)


def test_intervals_are_normal_95_percent() -> None:
    iv = interval([1.0, 2.0, 3.0, 4.0])
    assert iv.mean == 2.5
    assert abs(iv.half_width - 1.96 * statistics.stdev([1, 2, 3, 4]) / 2) < 1e-12
    assert interval([0.7]) == Interval(0.7, 0.0)


def test_the_goal_needs_intervals_apart() -> None:
    record = {
        "script": 0.0,
        "holdout": 0.0,
        "blend": 0.0,
        "best_in_tree": 0.0,
        "best_drafted": 0.0,
        "drafts": 5.0,
    }
    config = LandscapeConfig(nodes=10, competitions=2)
    apart = {
        "ml-master": [record | {"script": 0.9, "holdout": 0.9}] * 2,
        "greedy": [record | {"script": 0.5, "holdout": 0.95}] * 2,
    }
    goals = {g.name: g.met for g in summarise(config, apart, 1.0).goals}
    assert list(goals.values()) == [True, False]


def test_the_scenario_reports_every_policy_with_its_assumptions() -> None:
    result = run_landscape(LandscapeConfig(nodes=60, competitions=3))
    table = result.tables[0]
    assert [row[0] for row in table.rows] == ["ml-master", "greedy", "random"]
    assert any("improve_bug_rate=0.25" in note for note in table.notes)
    assert len(result.goals) == 2 and all(g.met is not None for g in result.goals)
    assert len(result.data["runs"]["greedy"]) == 3
