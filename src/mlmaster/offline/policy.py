"""How the offline coder chooses a recipe for each operator: draft, improve, debug.

Every choice is a pure function of the profile, the memory context, the parent and a seeded
random generator, so the same request always yields the same script.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from pydantic import BaseModel

from mlmaster.competition.metrics import METRICS
from mlmaster.execution.result import ExecutionResult
from mlmaster.llm.requests import ParentSolution
from mlmaster.memory.insight import MemoryContext
from mlmaster.offline.profile import DataProfile
from mlmaster.offline.recipe import (
    FAMILY_NAMES,
    Family,
    FeatureSteps,
    ModelSpec,
    Recipe,
    families_named_in,
    recipe_from_code,
)

LARGE_TABLE = 50_000  # rows above which scripts use 3 folds and slow models subsample
SLOW_MODEL_ROWS: dict[Family, int] = {"knn": 20_000, "random_forest": 50_000, "extra_trees": 50_000}
MAX_ENSEMBLE = 3
MIN_ROWS_WHEN_LIGHTER = 2_000


class Choice(BaseModel):
    """A chosen recipe with the words a plan needs: what changed and why."""

    recipe: Recipe
    tag: str  # short name of the change (a family for drafts), shown in brackets in the plan
    why: str


# ---------------------------------------------------------------- what the memory says


def memory_texts(memory: MemoryContext) -> list[str]:
    return [entry.insight.design for entry in memory.entries]


def families_in_memory(memory: MemoryContext) -> set[Family]:
    found: set[Family] = set()
    for entry in memory.entries:
        recipe = recipe_from_code(entry.code)
        found.update(recipe.families if recipe else families_named_in(entry.insight.design))
    return found


def tried_changes(memory: MemoryContext) -> set[str]:
    """Change tags of improves already made from this parent (its siblings in the memory)."""
    tags: set[str] = set()
    for entry in memory.entries:
        if entry.role == "sibling":
            tags.update(re.findall(r"\[([\w-]+)\]", entry.insight.design))
    return tags


def proven_changes(memory: MemoryContext) -> set[str]:
    """Change tags found in the designs of the run's best working nodes."""
    tags: set[str] = set()
    for entry in memory.entries:
        if entry.role == "best" and not entry.insight.buggy:
            tags.update(re.findall(r"\[([\w-]+)\]", entry.insight.design))
    return tags


def best_other_models(
    memory: MemoryContext, exclude: set[Family], lower_is_better: bool
) -> list[ModelSpec]:
    """Models of the best working nodes in memory whose families the parent does not use."""
    scored = [
        e
        for e in memory.entries
        if not e.insight.buggy and e.insight.metric is not None and e.role != "error"
    ]
    scored.sort(key=lambda e: e.insight.metric or 0.0, reverse=not lower_is_better)
    found: list[ModelSpec] = []
    for entry in scored:
        recipe = recipe_from_code(entry.code)
        candidates = (
            recipe.models
            if recipe
            else [ModelSpec(family=f) for f in families_named_in(entry.insight.design)]
        )
        for model in candidates:
            if model.family not in exclude and all(m.family != model.family for m in found):
                found.append(model)
    return found


# ---------------------------------------------------------------- drafts


def draft_order(profile: DataProfile) -> list[Family]:
    """Families worth a first try, most promising first for this kind of data."""
    if profile.columns.text:
        return ["linear", "lightgbm", "hist_gb", "random_forest", "knn", "extra_trees"]
    if len(profile.classes or []) > 5:
        # Many classes: boosting grows one tree per class per round; start with cheaper models.
        return ["linear", "knn", "lightgbm", "random_forest", "hist_gb", "extra_trees"]
    if profile.n_train < 1_000:
        return ["linear", "hist_gb", "random_forest", "extra_trees", "knn", "lightgbm"]
    return ["hist_gb", "lightgbm", "linear", "random_forest", "extra_trees", "knn"]


def base_recipe(family: Family, profile: DataProfile, seed: int) -> Recipe:
    """A plain, fast recipe of one family: the starting point improves build on."""
    params: dict[str, float | int | str | None] = {}
    if family in ("random_forest", "extra_trees") and profile.n_train > LARGE_TABLE:
        params["n_estimators"] = 150
    features = FeatureSteps()
    if profile.columns.text and family not in ("linear", "knn"):
        # Dense models see text through SVD: a smaller vocabulary and basis, fewer rounds
        # (boosting on dense text components is slow and gains little after a few hundred).
        features = FeatureSteps(text_max_features=20_000, svd_components=64)
        if family == "lightgbm":
            params["n_estimators"] = 200
        elif family == "hist_gb":
            params["max_iter"] = 200
    return Recipe(
        models=[ModelSpec(family=family, params=params)],
        features=features,
        folds=3 if profile.n_train > LARGE_TABLE else 5,
        max_train_rows=SLOW_MODEL_ROWS.get(family) if profile.n_train > LARGE_TABLE else None,
        seed=seed,
        cv_seed=seed,
    )


def choose_draft(
    profile: DataProfile,
    memory: MemoryContext,
    seed: int,
    rng: random.Random,
    in_flight_siblings: int = 0,
) -> Choice:
    used = families_in_memory(memory)
    order = draft_order(profile)
    fresh = [f for f in order if f not in used]
    if fresh:
        # Drafts running at the same moment cannot see each other in memory: the k-th of them
        # takes the k-th untried family, so concurrent drafts differ.
        family = fresh[min(in_flight_siblings, len(fresh) - 1)]
        why = (
            f"{FAMILY_NAMES[family][0]} has not been tried yet"
            + (f" (memory already holds {', '.join(sorted(used))})" if used else "")
            + f"; it suits {profile.describe()}."
        )
        return Choice(recipe=base_recipe(family, profile, seed), tag=family, why=why)
    # Every family has a draft already: vary one with different capacity instead.
    family = rng.choice(order[:3])
    recipe = more_capacity(base_recipe(family, profile, seed), profile)
    why = "every model family has a draft already, so this one tries a larger variant."
    return Choice(recipe=recipe, tag=family, why=why)


# ---------------------------------------------------------------- improves


def same_design(a: Recipe, b: Recipe) -> bool:
    """Equal but for the change log: a change that would not change anything."""
    return a.model_dump(exclude={"changes"}) == b.model_dump(exclude={"changes"})


def with_change(recipe: Recipe, tag: str, **update: object) -> Recipe:
    return recipe.model_copy(update={**update, "changes": [*recipe.changes, tag]}, deep=True)


def more_capacity(recipe: Recipe, profile: DataProfile) -> Recipe:
    """Stronger hyperparameters for the first model: more rounds, finer steps, more trees."""
    first = recipe.models[0]
    p = dict(first.params)
    if first.family == "hist_gb":
        p["learning_rate"] = round(float(p.get("learning_rate") or 0.06) * 0.7, 4)
        p["max_iter"] = min(int(int(p.get("max_iter") or 400) * 1.5), 1200)
        p["max_leaf_nodes"] = 31 if profile.n_train < 5_000 else 63
    elif first.family == "lightgbm":
        p["learning_rate"] = round(float(p.get("learning_rate") or 0.05) * 0.7, 4)
        p["n_estimators"] = min(int(int(p.get("n_estimators") or 400) * 1.5), 1200)
    elif first.family in ("random_forest", "extra_trees"):
        p["n_estimators"] = min(int(p.get("n_estimators") or 300) * 2, 1000)
        p["min_samples_leaf"] = 2
    elif first.family == "linear":
        # The right penalty depends on the data: let an inner cross-validation choose it.
        if profile.task in ("regression", "ordinal"):
            p["alpha"] = "cv"
        else:
            p["C"] = "cv"
            p["scoring"] = _linear_cv_scoring(profile.metric)
    elif first.family == "knn":
        p["n_neighbors"] = int(p.get("n_neighbors") or 15) + 10
    models = [first.model_copy(update={"params": p}), *recipe.models[1:]]
    return recipe.model_copy(update={"models": models}, deep=True)


Improvement = Callable[[Recipe, DataProfile, MemoryContext], Choice | None]


def log_target(recipe: Recipe, profile: DataProfile, memory: MemoryContext) -> Choice | None:
    if profile.task != "regression" or not profile.non_negative:
        return None
    if recipe.target_transform == "log1p" or profile.metric not in ("rmsle", "mae"):
        return None
    why = (
        "RMSLE scores errors in log space, so fitting log1p(target) matches the metric."
        if profile.metric == "rmsle"
        else "the non-negative, skewed target is easier to fit on a log scale."
    )
    return Choice(
        recipe=with_change(recipe, "log-target", target_transform="log1p"),
        tag="log-target",
        why=why,
    )


def threshold(recipe: Recipe, profile: DataProfile, memory: MemoryContext) -> Choice | None:
    if profile.task != "binary" or profile.output != "label" or recipe.tune_threshold:
        return None
    why = (
        f"{profile.metric} on hard labels rewards a cut chosen on out-of-fold probabilities, "
        "not 0.5."
    )
    return Choice(
        recipe=with_change(recipe, "threshold", tune_threshold=True), tag="threshold", why=why
    )


def cutoffs(recipe: Recipe, profile: DataProfile, memory: MemoryContext) -> Choice | None:
    if profile.task != "ordinal" or recipe.tune_cutoffs:
        return None
    why = "QWK rewards rounding cut-offs tuned on out-of-fold predictions over plain rounding."
    return Choice(recipe=with_change(recipe, "cutoffs", tune_cutoffs=True), tag="cutoffs", why=why)


def calibration(recipe: Recipe, profile: DataProfile, memory: MemoryContext) -> Choice | None:
    if profile.metric != "log_loss" or recipe.calibrate or recipe.families == ["linear"]:
        return None
    why = "log loss punishes over-confident tree probabilities; sigmoid calibration tempers them."
    return Choice(recipe=with_change(recipe, "calibrate", calibrate=True), tag="calibrate", why=why)


def target_encoding(recipe: Recipe, profile: DataProfile, memory: MemoryContext) -> Choice | None:
    columns = [c for c in profile.columns.high_cardinality if c not in recipe.features.drop_columns]
    if not columns or recipe.features.target_encode:
        return None
    features = recipe.features.model_copy(update={"target_encode": columns})
    why = f"{', '.join(columns)} have many levels; out-of-fold target means summarise them."
    return Choice(
        recipe=with_change(recipe, "target-encoding", features=features),
        tag="target-encoding",
        why=why,
    )


def char_ngrams(recipe: Recipe, profile: DataProfile, memory: MemoryContext) -> Choice | None:
    if not profile.columns.text or recipe.features.char_ngrams:
        return None
    features = recipe.features.model_copy(update={"char_ngrams": True})
    why = "character n-grams catch misspellings and word forms that word TF-IDF misses."
    return Choice(
        recipe=with_change(recipe, "char-ngrams", features=features), tag="char-ngrams", why=why
    )


def ensemble(recipe: Recipe, profile: DataProfile, memory: MemoryContext) -> Choice | None:
    if len(recipe.models) >= MAX_ENSEMBLE:
        return None
    others = best_other_models(memory, set(recipe.families), profile.lower_is_better)
    if not others:
        return None
    partner = others[0]
    if profile.n_train > LARGE_TABLE and partner.family in SLOW_MODEL_ROWS:
        return None  # a slow partner would push a large table past the time limit
    if profile.columns.text and partner.family not in ("linear", "knn"):
        return None  # dense models need an SVD of the whole TF-IDF: slow, and weak on text
    updated = with_change(recipe, "ensemble", models=[*recipe.models, partner])
    why = (
        f"{FAMILY_NAMES[partner.family][0]} also scored well in this run; averaging diverse "
        "models reduces variance."
    )
    return Choice(recipe=updated, tag="ensemble", why=why)


def capacity(recipe: Recipe, profile: DataProfile, memory: MemoryContext) -> Choice | None:
    updated = more_capacity(recipe, profile)
    updated = updated.model_copy(update={"changes": [*recipe.changes, "capacity"]})
    why = "a finer learning rate and more rounds, trees or a retuned penalty should fit better."
    return Choice(recipe=updated, tag="capacity", why=why)


# Most specific first: metric-aware changes, then features, then ensembles and capacity.
IMPROVEMENTS: list[Improvement] = [
    log_target,
    threshold,
    cutoffs,
    calibration,
    target_encoding,
    char_ngrams,
    ensemble,
    capacity,
]


def choose_improve(
    parent: ParentSolution,
    profile: DataProfile,
    memory: MemoryContext,
    seed: int,
    rng: random.Random,
) -> Choice:
    recipe = recipe_from_code(parent.code)
    if recipe is None:
        family = draft_order(profile)[0]
        recipe = base_recipe(family, profile, seed)
        note = "The parent was not written offline, so this starts from the best default. "
    else:
        note = ""
    tried = tried_changes(memory)
    options = [
        c
        for c in (f(recipe, profile, memory) for f in IMPROVEMENTS)
        if c is not None and not same_design(c.recipe, recipe)
    ]
    fresh = [c for c in options if c.tag not in tried]
    proven = proven_changes(memory)
    # What worked elsewhere in this run goes first; the rest keep their order.
    fresh.sort(key=lambda c: c.tag not in proven)
    # Concurrent improves of one parent cannot see each other yet: a seeded pick among the top
    # two keeps them from all making the same change.
    if not fresh:  # nothing left to change: a seeded variant still explores something new
        varied = recipe.model_copy(
            update={"seed": recipe.seed + 1, "changes": [*recipe.changes, "reseed"]}
        )
        return Choice(
            recipe=varied,
            tag="reseed",
            why=note + "every known change is applied; a new seed varies the fit.",
        )
    pick = fresh[0] if len(fresh) < 2 or rng.random() < 0.7 else fresh[1]
    return pick.model_copy(update={"why": note + pick.why})


# ---------------------------------------------------------------- debugging


def failure_text(execution: ExecutionResult | None) -> str:
    if execution is None:
        return ""
    parts = [execution.output_tail(3000)]
    if execution.exception:
        parts.append(f"{execution.exception.type}: {execution.exception.message}")
    return "\n".join(parts)


def missing_column(text: str) -> str | None:
    """The column name a KeyError or 'not in index' message complains about."""
    match = re.search(r"KeyError: \W*['\"]([^'\"]+)['\"]", text) or re.search(
        r"\[['\"]([^'\"]+)['\"]\] not in index", text
    )
    return match.group(1) if match else None


def lighter(recipe: Recipe, profile: DataProfile) -> Recipe:
    """Half the rows, three folds, one fast model, no extras: for timeouts and memory errors."""
    rows = min(recipe.max_train_rows or profile.n_train, profile.n_train) // 2
    first = recipe.models[0]
    if first.family in SLOW_MODEL_ROWS:
        first = ModelSpec(family="hist_gb" if not profile.columns.text else "linear")
    features = recipe.features.model_copy(
        update={"char_ngrams": False, "text_max_features": 20_000, "svd_components": 50}
    )
    return recipe.model_copy(
        update={
            "models": [first],
            "features": features,
            "folds": 3,
            "calibrate": False,
            "max_train_rows": max(rows, MIN_ROWS_WHEN_LIGHTER),
        },
        deep=True,
    )


def safe_recipe(profile: DataProfile, seed: int) -> Recipe:
    """The recipe least likely to fail: one robust model, plain features."""
    family: Family = "linear" if profile.columns.text else "hist_gb"
    return base_recipe(family, profile, seed)


def choose_debug(parent: ParentSolution, profile: DataProfile, seed: int) -> Choice:
    recipe = recipe_from_code(parent.code)
    execution = parent.execution
    text = failure_text(execution)
    kind = execution.exception.type if execution and execution.exception else ""
    if recipe is None:
        why = "the failing script was not written offline; a robust recipe replaces it."
        return Choice(recipe=safe_recipe(profile, seed), tag="fallback", why=why)
    if execution and (execution.timed_out or execution.killed_reason in ("timeout", "memory")):
        stopped = execution.killed_reason or "timeout"
        why = f"the script was stopped ({stopped}); a lighter recipe fits the limits."
        return Choice(
            recipe=with_change(lighter(recipe, profile), "lighter"), tag="lighter", why=why
        )
    if kind == "MemoryError" or "MemoryError" in text:
        why = "the script ran out of memory; fewer rows and one model need less."
        return Choice(
            recipe=with_change(lighter(recipe, profile), "lighter"), tag="lighter", why=why
        )
    column = missing_column(text)
    if column:
        drops = [*recipe.features.drop_columns, column]
        features = recipe.features.model_copy(update={"drop_columns": drops})
        why = f"column {column!r} is missing at run time; the recipe no longer uses it."
        return Choice(
            recipe=with_change(recipe, "drop-column", features=features),
            tag="drop-column",
            why=why,
        )
    if kind in ("ModuleNotFoundError", "ImportError"):
        models = [
            m if m.family != "lightgbm" else ModelSpec(family="hist_gb") for m in recipe.models
        ]
        why = "a library is missing in the scripts' environment; scikit-learn models replace it."
        return Choice(
            recipe=with_change(recipe, "sklearn-only", models=models), tag="sklearn-only", why=why
        )
    if kind in ("ValueError", "TypeError") and re.search(r"convert|dtype|NaN|infinity|float", text):
        features = recipe.features.model_copy(
            update={"target_encode": [], "char_ngrams": False, "missing_indicators": True}
        )
        models = (
            [ModelSpec(family="hist_gb")]
            if not profile.columns.text
            else [ModelSpec(family="linear")]
        )
        why = "a type or missing-value error; simpler encodings and a NaN-tolerant model avoid it."
        return Choice(
            recipe=with_change(recipe, "safe-types", features=features, models=models),
            tag="safe-types",
            why=why,
        )
    why = "the failure is not one of the known kinds; falling back to the most robust recipe."
    return Choice(
        recipe=with_change(safe_recipe(profile, seed), "fallback"), tag="fallback", why=why
    )


def _linear_cv_scoring(metric: str) -> str:
    """The scorer a logistic penalty is tuned by: the competition metric's, else accuracy."""
    known = METRICS.get(metric)
    return (known.sklearn_scoring if known else None) or "accuracy"
