"""The blend's estimate: offset, spread, suspects, weights, direction, ties and small trees."""

from __future__ import annotations

import pytest

from mlmaster.selection.blend import (
    MIN_NODES,
    SUSPECT_Z,
    Estimate,
    NodeScores,
    Noise,
    choose,
    estimate,
    measure_noise,
    robust_sd,
    script_weight,
)

ROWS = {"rows_kept": 900, "rows_held": 100}  # a tenth held: the script's weight is 0.9


def nodes(*pairs: tuple[float, float]) -> list[NodeScores]:
    return [NodeScores(f"n{i}", script=s, holdout=h) for i, (s, h) in enumerate(pairs)]


def flipped(scores: list[NodeScores]) -> list[NodeScores]:
    """The same nodes for a lower-is-better metric (every score negated)."""
    return [NodeScores(n.node_id, -n.script, -n.holdout) for n in scores]


# Honest scripts: every script 0.05 above its holdout, give or take 0.01.
HONEST = [(0.80, 0.75), (0.82, 0.76), (0.84, 0.80), (0.81, 0.76), (0.83, 0.79), (0.85, 0.79)]


def test_robust_sd_is_the_normal_sd_from_the_median_deviation() -> None:
    assert robust_sd([]) == 0.0
    assert robust_sd([3.0]) == 0.0
    assert robust_sd([1.0, 1.0, 1.0]) == 0.0
    assert robust_sd([0.0, 1.0, 2.0]) == pytest.approx(1.4826)
    # one wild value barely moves it
    assert robust_sd([0.0, 1.0, 2.0, 1000.0]) == robust_sd([0.0, 1.0, 2.0, 3.0])


def test_the_scripts_weight_is_its_share_of_the_rows() -> None:
    assert script_weight(900, 100) == pytest.approx(0.9)
    assert script_weight(800, 200) == pytest.approx(0.8)
    assert script_weight(0, 100) == 0.0
    assert script_weight(100, 0) == 1.0


def test_fewer_nodes_than_the_minimum_are_judged_by_the_holdout_alone() -> None:
    few = nodes(*HONEST[: MIN_NODES - 1])
    noise = measure_noise(few, lower_is_better=False, **ROWS)
    assert not noise.measured and noise.nodes == MIN_NODES - 1
    assert estimate(few, noise, lower_is_better=False) == [
        Estimate(n.node_id, n.holdout) for n in few
    ]
    chosen, _, _ = choose(few, lower_is_better=False, **ROWS)
    assert chosen == max(few, key=lambda n: n.holdout).node_id


def test_no_nodes_choose_nothing() -> None:
    assert choose([], lower_is_better=True, **ROWS)[0] is None


def test_offset_and_spread_come_from_the_gaps() -> None:
    honest = nodes(*HONEST)
    noise = measure_noise(honest, lower_is_better=False, **ROWS)
    gaps = [s - h for s, h in HONEST]
    assert noise.measured
    assert noise.offset == pytest.approx(sorted(gaps)[2] / 2 + sorted(gaps)[3] / 2)
    assert noise.gap_sd == pytest.approx(robust_sd(gaps))
    assert noise.script_weight == pytest.approx(0.9)


def test_honest_scripts_pull_the_estimate_towards_their_own_scores() -> None:
    honest = nodes(*HONEST)
    noise = measure_noise(honest, lower_is_better=False, **ROWS)
    for e, n in zip(estimate(honest, noise, lower_is_better=False), honest, strict=True):
        assert not e.suspect
        expected = 0.9 * (n.script - noise.offset) + 0.1 * n.holdout
        assert e.value == pytest.approx(expected)
    # n5 has the best script score, n2 the best holdout score: the scripts' ranking wins
    assert choose(honest, lower_is_better=False, **ROWS)[0] == "n5"


def test_a_script_far_better_than_its_holdout_is_judged_by_the_holdout_alone() -> None:
    leaky = nodes(*HONEST, (0.99, 0.74))  # a training score printed as validation
    chosen, noise, estimates = choose(leaky, lower_is_better=False, **ROWS)
    assert estimates[-1] == Estimate("n6", 0.74, suspect=True)
    assert [e.suspect for e in estimates[:-1]] == [False] * len(HONEST)
    assert chosen == "n5"
    # the leak barely moved the offset and spread the others are judged by
    honest_noise = measure_noise(nodes(*HONEST), lower_is_better=False, **ROWS)
    assert noise.offset == pytest.approx(honest_noise.offset, abs=0.006)


def test_a_suspect_is_one_beyond_the_spread_and_no_nearer() -> None:
    honest = nodes(*HONEST)
    base = measure_noise(honest, lower_is_better=False, **ROWS)
    limit = base.offset + SUSPECT_Z * base.gap_sd
    noise = Noise(nodes=len(HONEST) + 1, offset=base.offset, gap_sd=base.gap_sd, script_weight=0.9)
    near = NodeScores("near", script=0.70 + limit - 1e-6, holdout=0.70)
    far = NodeScores("far", script=0.70 + limit + 1e-6, holdout=0.70)
    [e_near, e_far] = estimate([near, far], noise, lower_is_better=False)
    assert not e_near.suspect and e_far.suspect and e_far.value == 0.70


def test_a_script_worse_than_its_holdout_is_blended_not_suspect() -> None:
    pessimistic = nodes(*HONEST, (0.60, 0.78))
    chosen, _, estimates = choose(pessimistic, lower_is_better=False, **ROWS)
    assert not estimates[-1].suspect
    assert estimates[-1].value < 0.78  # its low script score counts against it
    assert chosen == "n5"


def test_estimates_are_on_the_holdouts_scale() -> None:
    # every script exactly 0.05 above its holdout: each estimate is the holdout score
    same_gap = nodes(*[(h + 0.05, h) for h in (0.70, 0.72, 0.74, 0.76, 0.78)])
    noise = measure_noise(same_gap, lower_is_better=False, **ROWS)
    assert noise.offset == pytest.approx(0.05) and noise.gap_sd == pytest.approx(0.0)
    for e, n in zip(estimate(same_gap, noise, lower_is_better=False), same_gap, strict=True):
        assert e.value == pytest.approx(n.holdout)
        assert not e.suspect


def test_with_no_spread_any_gap_above_the_offset_is_suspect() -> None:
    same_gap = nodes(*[(h + 0.05, h) for h in (0.70, 0.72, 0.74, 0.76, 0.78)], (0.90, 0.80))
    chosen, _, estimates = choose(same_gap, lower_is_better=False, **ROWS)
    assert estimates[-1].suspect and estimates[-1].value == 0.80
    assert chosen == "n5"  # its holdout score is still the best one


@pytest.mark.parametrize(
    "pairs",
    [HONEST, [*HONEST, (0.99, 0.74)], [*HONEST, (0.60, 0.78)], HONEST[:3]],
    ids=["honest", "leak", "pessimist", "few"],
)
def test_lower_is_better_chooses_the_mirror_image(pairs: list[tuple[float, float]]) -> None:
    up = nodes(*pairs)
    chosen_up, noise_up, est_up = choose(up, lower_is_better=False, **ROWS)
    chosen_down, noise_down, est_down = choose(flipped(up), lower_is_better=True, **ROWS)
    assert chosen_up == chosen_down
    assert noise_up.offset == pytest.approx(noise_down.offset)
    assert noise_up.gap_sd == pytest.approx(noise_down.gap_sd)
    for a, b in zip(est_up, est_down, strict=True):
        assert a.suspect == b.suspect
        assert a.value == pytest.approx(-b.value)


def test_ties_go_to_the_first_node() -> None:
    twins = nodes(*HONEST, HONEST[-1])  # n6 repeats n5's scores
    assert choose(twins, lower_is_better=False, **ROWS)[0] == "n5"
    assert choose(flipped(twins), lower_is_better=True, **ROWS)[0] == "n5"
