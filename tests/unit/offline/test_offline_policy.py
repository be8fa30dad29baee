"""Which recipe the offline coder chooses, per task type and operator."""

from __future__ import annotations

import ast
import random
from collections.abc import Callable
from typing import Any

import pytest
from offline_tables import MakeCompetition

from mlmaster.execution.result import ExecutionResult, ScriptException
from mlmaster.llm.requests import CodeRequest, Hardware, ParentSolution
from mlmaster.memory.insight import ContextEntry, Insight, MemoryContext
from mlmaster.offline import OfflineCoder
from mlmaster.offline.policy import choose_improve, ensemble
from mlmaster.offline.profile import profile_competition
from mlmaster.offline.recipe import ModelSpec, Recipe, recipe_from_code
from mlmaster.search.node import Operator


def request_for(
    make_competition: MakeCompetition,
    operator: Operator = "draft",
    parent: ParentSolution | None = None,
    entries: list[ContextEntry] | None = None,
    node_id: str = "n1",
    seed: int = 0,
    **competition: object,
) -> CodeRequest:
    spec, public = make_competition(**competition)
    return CodeRequest(
        operator=operator,
        node_id=node_id,
        competition=spec,
        description="",
        public_dir=public,
        parent=parent,
        memory=MemoryContext(operator=operator, entries=entries or []),
        time_left=600,
        exec_timeout=60,
        hardware=Hardware(cpus=2),
        seed=seed,
    )


def entry(design: str, role: str = "sibling", metric: float | None = 0.8) -> ContextEntry:
    insight = Insight(
        node_id="x", parent_id=None, operator="draft", design=design, result="", metric=metric
    )
    return ContextEntry(role=role, insight=insight)  # type: ignore[arg-type]


async def recipe_of(request: CodeRequest) -> Recipe:
    answer = await OfflineCoder().generate(request)
    assert answer.code is not None
    ast.parse(answer.code)  # a complete script, as a model's answer would hold
    assert answer.text.count("```python") == 1
    recipe = recipe_from_code(answer.code)
    assert recipe is not None
    return recipe


def parent_with(recipe: Recipe, metric: float | None = 0.8, **extra: object) -> ParentSolution:
    code = f"{recipe.marker_line()}\nprint('parent')\n"
    return ParentSolution(node_id="p", plan="parent plan", code=code, metric=metric, **extra)


@pytest.mark.parametrize(
    ("competition", "first_family"),
    [
        ({"task": "binary", "metric": "roc_auc", "n": 2400}, "hist_gb"),
        ({"task": "binary", "metric": "roc_auc", "n": 120}, "linear"),  # small: linear first
        ({"task": "binary", "metric": "roc_auc", "text": True, "n": 2400}, "linear"),
        ({"task": "regression", "metric": "rmse", "n": 2400}, "hist_gb"),
        ({"task": "multiclass", "metric": "accuracy", "n": 2400}, "hist_gb"),
        ({"task": "ordinal", "metric": "qwk", "n": 2400}, "hist_gb"),
    ],
)
async def test_first_draft_family_suits_the_data(
    make_competition: MakeCompetition, competition: dict[str, object], first_family: str
) -> None:
    recipe = await recipe_of(request_for(make_competition, **competition))
    assert recipe.families == [first_family]
    assert recipe.changes == []


async def test_concurrent_drafts_take_different_families(
    make_competition: MakeCompetition,
) -> None:
    """Drafts in flight together see the same empty memory; their count keeps them apart."""
    families = []
    for siblings in range(3):
        request = request_for(make_competition, task="binary", metric="roc_auc", n=2400)
        request = request.model_copy(update={"in_flight_siblings": siblings})
        families.append((await recipe_of(request)).families[0])
    assert families[0] == "hist_gb"
    assert len(set(families)) == 3


async def test_cv_folds_do_not_move_with_the_model_seed(
    make_competition: MakeCompetition,
) -> None:
    """Drafts fix the run's folds in the recipe; improves copy the recipe, folds included."""
    request = request_for(make_competition, task="binary", metric="roc_auc", n=2400, seed=7)
    recipe = await recipe_of(request)
    assert recipe.cv_seed == 7


async def test_drafts_steer_away_from_families_in_memory(
    make_competition: MakeCompetition,
) -> None:
    memory = [entry("Draft [hist_gb]: histogram gradient boosting"), entry("Draft: LightGBM")]
    recipe = await recipe_of(request_for(make_competition, entries=memory, n=2400))
    assert recipe.families == ["linear"]


async def test_same_request_same_script_and_seed_reaches_the_recipe(
    make_competition: MakeCompetition,
) -> None:
    request = request_for(make_competition, seed=7)
    first = await OfflineCoder().generate(request)
    second = await OfflineCoder().generate(request)
    assert first.code == second.code
    assert recipe_from_code(first.code) is not None
    assert recipe_from_code(first.code).seed == 7  # type: ignore[union-attr]


class TopPick(random.Random):
    """A generator whose seeded pick always takes the first candidate."""

    def random(self) -> float:
        return 0.0


@pytest.mark.parametrize(
    ("competition", "change", "check"),
    [
        (
            {"task": "regression", "metric": "rmsle", "lower_is_better": True},
            "log-target",
            lambda r: r.target_transform == "log1p",
        ),
        ({"task": "binary", "metric": "f1"}, "threshold", lambda r: r.tune_threshold),
        (
            {"task": "ordinal", "metric": "qwk", "labels": [1, 2, 3, 4, 5]},
            "cutoffs",
            lambda r: r.tune_cutoffs,
        ),
        (
            {"task": "binary", "metric": "log_loss", "lower_is_better": True},
            "calibrate",
            lambda r: r.calibrate,
        ),
    ],
)
def test_improve_makes_the_metric_aware_change_first(
    make_competition: MakeCompetition,
    competition: dict[str, Any],
    change: str,
    check: Callable[[Recipe], bool],
) -> None:
    spec, public = make_competition(**competition)
    profile = profile_competition(spec, public)
    parent = parent_with(Recipe(models=[ModelSpec(family="hist_gb")]))
    memory = MemoryContext(operator="improve")
    choice = choose_improve(parent, profile, memory, 0, TopPick())
    assert choice.tag == change
    assert choice.recipe.changes == [change]
    assert check(choice.recipe)
    assert choice.recipe.families == ["hist_gb"]  # one change at a time


def test_changes_proven_in_the_best_nodes_go_first(make_competition: MakeCompetition) -> None:
    spec, public = make_competition(task="binary", metric="f1")
    profile = profile_competition(spec, public)
    parent = parent_with(Recipe(models=[ModelSpec(family="hist_gb")]))
    best = [entry("Improve [capacity]: histogram gradient boosting (max_iter=800)", role="best")]
    memory = MemoryContext(operator="improve", entries=best)
    assert choose_improve(parent, profile, memory, 0, TopPick()).tag == "capacity"


async def test_improve_through_the_coder_changes_one_thing(
    make_competition: MakeCompetition,
) -> None:
    parent = parent_with(Recipe(models=[ModelSpec(family="hist_gb")]))
    request = request_for(make_competition, "improve", parent=parent, task="binary", metric="f1")
    recipe = await recipe_of(request)
    assert len(recipe.changes) == 1
    assert recipe != recipe_from_code(parent.code)


async def test_improve_ensembles_with_the_best_other_family(
    make_competition: MakeCompetition,
) -> None:
    parent = parent_with(
        Recipe(models=[ModelSpec(family="hist_gb")], tune_threshold=True), metric=0.7
    )
    memory = [
        entry("Draft [random_forest]: random forest", role="best", metric=0.75),
        entry("Draft [knn]: k-nearest neighbours", role="best", metric=0.6),
    ]
    spec, public = make_competition(task="binary", metric="f1")
    profile = profile_competition(spec, public)
    recipe = recipe_from_code(parent.code)
    assert recipe is not None
    choice = ensemble(recipe, profile, MemoryContext(operator="improve", entries=memory))
    assert choice is not None
    assert choice.recipe.families == ["hist_gb", "random_forest"]
    assert choice.recipe.tune_threshold  # the rest of the parent's recipe is kept


def failed(kind: str, message: str, **extra: object) -> ExecutionResult:
    return ExecutionResult(
        exit_code=1, runtime=2.0, exception=ScriptException(type=kind, message=message), **extra
    )


async def test_debug_drops_a_missing_column(make_competition: MakeCompetition) -> None:
    parent = parent_with(
        Recipe(models=[ModelSpec(family="hist_gb")]),
        buggy=True,
        execution=failed("KeyError", "'colour'"),
    )
    recipe = await recipe_of(request_for(make_competition, "debug", parent=parent))
    assert recipe.features.drop_columns == ["colour"]
    assert recipe.changes == ["drop-column"]


async def test_debug_after_timeout_is_lighter(make_competition: MakeCompetition) -> None:
    heavy = Recipe(models=[ModelSpec(family="random_forest"), ModelSpec(family="hist_gb")])
    timeout = ExecutionResult(exit_code=None, timed_out=True, killed_reason="timeout", runtime=60)
    parent = parent_with(heavy, buggy=True, execution=timeout)
    recipe = await recipe_of(request_for(make_competition, "debug", parent=parent, n=400))
    assert len(recipe.models) == 1 and recipe.families != ["random_forest"]
    assert recipe.folds == 3
    assert recipe.max_train_rows is not None and recipe.max_train_rows <= 2000


async def test_debug_of_missing_library_uses_scikit_learn(
    make_competition: MakeCompetition,
) -> None:
    parent = parent_with(
        Recipe(models=[ModelSpec(family="lightgbm")]),
        buggy=True,
        execution=failed("ModuleNotFoundError", "No module named 'lightgbm'"),
    )
    recipe = await recipe_of(request_for(make_competition, "debug", parent=parent))
    assert recipe.families == ["hist_gb"]


async def test_debug_of_foreign_code_falls_back_to_a_robust_recipe(
    make_competition: MakeCompetition,
) -> None:
    parent = ParentSolution(
        node_id="p",
        plan="an LLM's plan",
        code="import pandas\nraise SystemExit(3)\n",
        buggy=True,
        execution=failed("RuntimeError", "boom"),
    )
    recipe = await recipe_of(request_for(make_competition, "debug", parent=parent))
    assert recipe.families == ["linear"] or recipe.families == ["hist_gb"]


async def test_answer_looks_like_a_model_answer(make_competition: MakeCompetition) -> None:
    answer = await OfflineCoder().generate(request_for(make_competition))
    assert answer.text.startswith(answer.plan)
    assert answer.plan.startswith("Draft [")
    assert answer.exchange is not None and answer.exchange.api_style == "offline"
    assert answer.exchange.role == "coder" and answer.exchange.node_id == "n1"
