"""The benchmark's leaky coder: which scripts leak, and that a leaked script really prints an
optimistic score while predicting as before (scripts run for real, with the scripts' Python)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from offline_competitions import (
    assert_valid_submission,
    binary,
    make_request,
    regression,
    run_script,
)

from mlmaster.bench.leaky_coder import (
    MAIN_GUARD,
    LeakRates,
    LeakyCoder,
    choose_leak,
    leak_in,
    with_leak,
)
from mlmaster.llm.requests import ParentSolution
from mlmaster.offline import OfflineCoder

NEVER = LeakRates(draft_training=0, draft_best_fold=0, edit_training=0, edit_best_fold=0)


def test_leaks_are_drawn_at_their_rates_seeded_and_inherited(tmp_path: Path) -> None:
    spec = regression(tmp_path / "comp")
    public = tmp_path / "comp" / "public"
    drafts = [make_request(spec, public, node_id=f"d{i}") for i in range(400)]
    drawn = [choose_leak(r, LeakRates()) for r in drafts]
    assert drawn == [choose_leak(r, LeakRates()) for r in drafts]  # seeded by the node
    assert 40 <= drawn.count("training-score") <= 120  # 0.2 of 400
    assert 40 <= drawn.count("best-fold") <= 120
    assert all(choose_leak(r, NEVER) is None for r in drafts)
    always = LeakRates(draft_training=1.0, draft_best_fold=0.0)
    assert all(choose_leak(r, always) == "training-score" for r in drafts)
    # an edit keeps its parent's leak whatever the rates; an honest parent's child draws anew
    leaky_parent = ParentSolution(
        node_id="p", code=with_leak(f"x = 1\n{MAIN_GUARD}\n", "best-fold")
    )
    honest_parent = ParentSolution(node_id="p", code=f"x = 1\n{MAIN_GUARD}\n")
    for operator in ("improve", "debug"):
        child = make_request(spec, public, operator=operator, node_id="c", parent=leaky_parent)
        assert choose_leak(child, NEVER) == "best-fold"
        edit = LeakRates(edit_training=0.0, edit_best_fold=1.0)
        honest_child = make_request(
            spec, public, operator=operator, node_id="c", parent=honest_parent
        )
        assert choose_leak(honest_child, NEVER) is None
        assert choose_leak(honest_child, edit) == "best-fold"


def test_the_leak_goes_before_the_main_call_and_is_marked() -> None:
    code = f"def main(cfg):\n    pass\n\n{MAIN_GUARD}\n    main(CONFIG)\n"
    leaked = with_leak(code, "training-score")
    assert leak_in(leaked) == "training-score" and leak_in(code) is None
    assert leaked.index("_SeenRows") < leaked.index(MAIN_GUARD)
    assert leaked.endswith(f"{MAIN_GUARD}\n    main(CONFIG)\n")
    assert with_leak("print(1)\n", "best-fold") == "print(1)\n"  # no main call: left alone


@pytest.mark.parametrize("build", [regression, binary], ids=["rmsle", "f1"])
async def test_a_leaked_script_prints_a_better_score_than_it_earns(
    tmp_path: Path, build: object
) -> None:
    spec = build(tmp_path / "comp")  # type: ignore[operator]
    public = tmp_path / "comp" / "public"
    request = make_request(spec, public)
    honest = await LeakyCoder(OfflineCoder(), NEVER).generate(request)
    assert honest.code is not None and leak_in(honest.code) is None
    runs = {"honest": run_script(honest.code, public, tmp_path / "honest")}
    for kind in ("training-score", "best-fold"):
        rates = LeakRates(
            draft_training=1.0 if kind == "training-score" else 0.0,
            draft_best_fold=1.0 if kind == "best-fold" else 0.0,
        )
        answer = await LeakyCoder(OfflineCoder(), rates).generate(request)
        assert answer.code is not None and leak_in(answer.code) == kind
        runs[kind] = run_script(answer.code, public, tmp_path / kind)
    for name, run in runs.items():
        assert run.returncode == 0, (name, run.output)
        assert run.metric is not None
        assert_valid_submission(spec, public, run.submission)
    better = (lambda a, b: a < b) if spec.lower_is_better else (lambda a, b: a > b)
    honest_metric = runs["honest"].metric
    assert better(runs["training-score"].metric, honest_metric)
    assert better(runs["best-fold"].metric, honest_metric)
    # reporting its best fold changes what it prints, not what it predicts
    pd.testing.assert_frame_equal(
        pd.read_csv(runs["best-fold"].submission), pd.read_csv(runs["honest"].submission)
    )
