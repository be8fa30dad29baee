"""A recipe: everything that distinguishes one offline solution from another.

Drafts choose a recipe, improves change one thing in the parent's recipe, debugs repair it. The
script embeds its recipe as one JSON comment line, so the next operator can recover the parent's
recipe from the parent's code alone (the tree keeps code, not recipes).
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

Family = Literal["linear", "random_forest", "extra_trees", "hist_gb", "lightgbm", "knn"]

RECIPE_MARKER = "# mlmaster-recipe: "

# Names as they appear in plans and memory; the first is the one plans use.
FAMILY_NAMES: dict[Family, tuple[str, ...]] = {
    "linear": ("linear model", "logistic", "ridge", "linear"),
    "random_forest": ("random forest", "random_forest", "randomforest"),
    "extra_trees": ("extra trees", "extra_trees", "extratrees"),
    "hist_gb": ("histogram gradient boosting", "hist_gb", "histgradientboosting"),
    "lightgbm": ("LightGBM", "lightgbm", "lgbm"),
    "knn": ("k-nearest neighbours", "knn", "nearest neighbo"),
}


class ModelSpec(BaseModel):
    family: Family
    params: dict[str, float | int | str | None] = {}

    def describe(self) -> str:
        name = FAMILY_NAMES[self.family][0]
        if not self.params:
            return name
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{name} ({shown})"


class FeatureSteps(BaseModel):
    impute: Literal["median", "mean", "most_frequent"] = "median"
    missing_indicators: bool = False
    encoding: Literal["onehot", "ordinal"] = "ordinal"  # for tree models; linear ones one-hot
    max_levels: int = 50  # one-hot levels kept per column, rarer ones pooled
    target_encode: list[str] = []  # high-cardinality columns given a target-encoded copy
    date_parts: bool = True
    ngram_max: int = 2
    char_ngrams: bool = False
    text_max_features: int = 50_000
    svd_components: int = 100  # text reduced for dense models
    drop_columns: list[str] = []


class Recipe(BaseModel):
    """One solution design. ``models`` with several entries is an averaged ensemble."""

    models: list[ModelSpec] = Field(min_length=1)
    features: FeatureSteps = FeatureSteps()
    target_transform: Literal["none", "log1p"] = "none"
    tune_threshold: bool = False  # binary labels: pick the OOF-best probability cut
    tune_cutoffs: bool = False  # ordinal labels: pick the OOF-best rounding cut-offs
    calibrate: bool = False  # probabilities: sigmoid calibration (log loss)
    folds: int = Field(5, ge=2, le=10)
    max_train_rows: int | None = None  # subsample for speed and memory
    seed: int = 0
    # The folds' seed stays the run's seed whatever the model's seed becomes, so every node's
    # CV score is measured on the same folds and a "better" score is never just luckier folds.
    cv_seed: int | None = None
    changes: list[str] = []  # the improve/debug changes applied so far, oldest first

    @property
    def families(self) -> list[Family]:
        return [m.family for m in self.models]

    def describe(self) -> str:
        """One line naming the design, as plans and memory read it."""
        models = " + ".join(m.describe() for m in self.models)
        extras = []
        if self.target_transform == "log1p":
            extras.append("log1p target")
        if self.tune_threshold:
            extras.append("tuned threshold")
        if self.tune_cutoffs:
            extras.append("tuned ordinal cut-offs")
        if self.calibrate:
            extras.append("sigmoid calibration")
        if self.features.target_encode:
            extras.append("target encoding of " + ", ".join(self.features.target_encode))
        if self.features.char_ngrams:
            extras.append("char n-grams")
        if self.max_train_rows:
            extras.append(f"subsampled to {self.max_train_rows} rows")
        kind = "ensemble of " if len(self.models) > 1 else ""
        tail = f"; {', '.join(extras)}" if extras else ""
        return f"{kind}{models}{tail}; {self.folds}-fold CV"

    def marker_line(self) -> str:
        return RECIPE_MARKER + self.model_dump_json()


def recipe_from_code(code: str | None) -> Recipe | None:
    """The recipe a script embeds, or None for code the offline coder did not write."""
    for line in (code or "").splitlines():
        if line.startswith(RECIPE_MARKER):
            try:
                return Recipe.model_validate(json.loads(line[len(RECIPE_MARKER) :]))
            except (ValueError, ValidationError):
                return None
    return None


def families_named_in(text: str) -> list[Family]:
    """Model families a plan or memory entry mentions, in the order of FAMILY_NAMES."""
    lowered = text.lower()
    found: list[Family] = []
    for family, names in FAMILY_NAMES.items():
        if any(name.lower() in lowered for name in names):
            found.append(family)
    return found
