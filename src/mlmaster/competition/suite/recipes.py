"""Reference solutions of increasing effort, written as a Kaggle entrant of each tier would.

Every recipe sees only the public side (train features and target, test features) and picks
its hyperparameters, blend weights, thresholds and rating cut-offs by cross-validation on train.
None of them ever looks at the answers; :mod:`suite.references` scores them afterwards.

The tiers (MLE-bench reference note B4.1):

- **naive**: the sample submission's constant (prior, mean, median or mode);
- **beginner**: one default linear model or kNN on the numeric columns, no scaling, no tuning;
- **intermediate**: a default random forest or gradient boosting on all columns, basic encoding
  (text: TF-IDF with a default linear model);
- **strong**: the better of a tuned linear model and a tuned gradient boosting by 3-fold CV,
  with the metric's trick (log target for RMSLE/MAE, F1 threshold, QWK cut-offs);
- **top**: a blend of the tuned models and a forest, weights chosen on out-of-fold predictions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import MultinomialNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from mlmaster.competition.metrics import METRICS
from mlmaster.competition.suite.catalog import SuiteCompetition
from mlmaster.competition.suite.preparation import ID_COLUMN, baseline_value

Tier = Literal["naive", "beginner", "intermediate", "strong", "top"]
TIERS: tuple[Tier, ...] = ("naive", "beginner", "intermediate", "strong", "top")

CV_FOLDS = 3  # out-of-fold predictions (model choice, blend weights, thresholds)
SEARCH_FOLDS = 3  # the inner grid searches
BEGINNER_COLUMNS = 3
# Grid searches score by the metric's own scikit-learn scorer, except where a surrogate ranks
# candidates better: F1 ranks probabilities first (the threshold is tuned afterwards), QWK is
# solved as regression, RMSLE is fitted in the log target's space (see _log_target).
_SEARCH_SURROGATE = {
    "f1": "neg_log_loss",
    "qwk": "neg_mean_squared_error",
    "rmsle": "neg_root_mean_squared_error",
}


def _search_scoring(metric: str) -> str:
    scoring = _SEARCH_SURROGATE.get(metric) or METRICS[metric].sklearn_scoring
    assert scoring is not None, f"no grid-search scorer for {metric}"
    return scoring


@dataclass(frozen=True)
class Task:
    """What a recipe may see: the public data of one competition, and a seed."""

    entry: SuiteCompetition
    train: pd.DataFrame
    test: pd.DataFrame
    seed: int

    @property
    def metric(self) -> str:
        return self.entry.spec.metric

    @property
    def target(self) -> str:
        return self.entry.spec.target_columns[0]

    @property
    def X(self) -> pd.DataFrame:
        return self.train.drop(columns=[ID_COLUMN, self.target])

    @property
    def y(self) -> pd.Series:
        return self.train[self.target]

    @property
    def X_test(self) -> pd.DataFrame:
        return self.test.drop(columns=[ID_COLUMN])

    @property
    def classification(self) -> bool:
        # QWK's ordinal labels are solved as regression.
        return METRICS[self.metric].predictions != "values" and self.metric != "qwk"

    def folds(self, n: int = 0) -> KFold | StratifiedKFold:
        n = n or CV_FOLDS
        if self.classification:
            return StratifiedKFold(n, shuffle=True, random_state=self.seed)
        return KFold(n, shuffle=True, random_state=self.seed)


@dataclass(frozen=True)
class Recipe:
    name: str
    tier: Tier
    seeds: tuple[int, ...]
    solve: Callable[[Task], np.ndarray]  # test predictions, in the submission's domain


# --- features ---------------------------------------------------------------------------------


def _columns(task: Task) -> tuple[list[str], list[str], list[str]]:
    """Numeric, categorical and free-text columns of the training features."""
    text = [c for c in task.entry.text_columns if c in task.X.columns]
    rest = task.X.drop(columns=text)
    numeric = list(rest.select_dtypes("number").columns)
    categorical = [c for c in rest.columns if c not in numeric]
    return numeric, categorical, text


def _numeric_only(task: Task) -> ColumnTransformer:
    numeric, _, _ = _columns(task)
    return ColumnTransformer([("num", SimpleImputer(strategy="median"), numeric)])


def _linear_features(task: Task, ngrams: tuple[int, int] = (1, 1)) -> ColumnTransformer:
    numeric, categorical, text = _columns(task)
    parts: list[tuple[str, Any, Any]] = [
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        (
            "cat",
            make_pipeline(
                SimpleImputer(strategy="constant", fill_value="missing"),
                OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5),
            ),
            categorical,
        ),
    ]
    for column in text:
        vectorizer = TfidfVectorizer(ngram_range=ngrams, sublinear_tf=True, min_df=2)
        parts.append((f"text_{column}", vectorizer, column))
    return ColumnTransformer(parts)


def _tree_features(task: Task) -> ColumnTransformer:
    numeric, categorical, _ = _columns(task)
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
    )
    return ColumnTransformer([("num", "passthrough", numeric), ("cat", encoder, categorical)])


def _log_target(model: BaseEstimator) -> TransformedTargetRegressor:
    return TransformedTargetRegressor(regressor=model, func=np.log1p, inverse_func=np.expm1)


# --- models: each returns an unfitted estimator ---------------------------------------------------


def _beginner_linear(task: Task) -> BaseEstimator:
    """A default linear model on the few numeric columns most correlated with the target."""
    model = LogisticRegression() if task.classification else LinearRegression()
    numeric, _, _ = _columns(task)
    target = pd.to_numeric(task.y, errors="coerce")
    strength = task.X[numeric].corrwith(target).abs().fillna(0.0)
    chosen = list(strength.sort_values(ascending=False, kind="stable").index[:BEGINNER_COLUMNS])
    features = ColumnTransformer([("num", SimpleImputer(strategy="median"), chosen)])
    return Pipeline([("features", features), ("model", model)])


def _default_linear(task: Task) -> BaseEstimator:
    model = LogisticRegression(max_iter=1000) if task.classification else Ridge()
    return Pipeline([("features", _linear_features(task)), ("model", model)])


def _beginner_knn(task: Task) -> BaseEstimator:
    model = KNeighborsClassifier() if task.classification else KNeighborsRegressor()
    return Pipeline([("features", _numeric_only(task)), ("model", model)])


def _forest(task: Task) -> BaseEstimator:
    cls = RandomForestClassifier if task.classification else RandomForestRegressor
    model = cls(n_estimators=200, min_samples_leaf=2, random_state=task.seed)
    return Pipeline([("features", _tree_features(task)), ("model", model)])


def _default_gbm(task: Task) -> BaseEstimator:
    cls = HistGradientBoostingClassifier if task.classification else HistGradientBoostingRegressor
    return Pipeline([("features", _tree_features(task)), ("model", cls(random_state=task.seed))])


def _tuned_gbm(task: Task) -> BaseEstimator:
    cls = HistGradientBoostingClassifier if task.classification else HistGradientBoostingRegressor
    pipe = Pipeline([("features", _tree_features(task)), ("model", cls(random_state=task.seed))])
    grid: dict[str, list[Any]] = {
        "model__max_leaf_nodes": [15, 31],
        "model__l2_regularization": [0.0, 1.0],
    }
    return _searched(task, pipe, grid)


def _tuned_linear(task: Task) -> BaseEstimator:
    if task.classification:
        model: BaseEstimator = LogisticRegression(max_iter=3000)
        grid = {"model__C": [0.03, 0.1, 0.3, 1.0, 3.0, 10.0]}
    else:
        model = Ridge()
        grid = {"model__alpha": [0.1, 1.0, 10.0, 100.0]}
    pipe = Pipeline([("features", _linear_features(task)), ("model", model)])
    return _searched(task, pipe, grid)


def _tuned_text_linear(task: Task, analyzer: str) -> BaseEstimator:
    """TF-IDF (word 1-2-grams or character 2-5-grams) and a logistic regression, C by CV."""
    if analyzer == "word":
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    else:
        vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=3
        )
    features = ColumnTransformer([("text", vectorizer, task.entry.text_columns[0])])
    pipe = Pipeline([("features", features), ("model", LogisticRegression(max_iter=3000))])
    return _searched(task, pipe, {"model__C": [1.0, 3.0, 10.0, 30.0]})


def _searched(task: Task, pipe: BaseEstimator, grid: dict[str, list[Any]]) -> BaseEstimator:
    if task.metric in ("rmsle", "mae"):
        # The metric-aware trick for prices: fit the log of the target.
        grid = {f"regressor__{key}": values for key, values in grid.items()}
        pipe = _log_target(pipe)
    return GridSearchCV(
        pipe, grid, scoring=_search_scoring(task.metric), cv=task.folds(SEARCH_FOLDS)
    )


# --- turning model outputs into submissions ---------------------------------------------------


def _scores(task: Task, model: BaseEstimator, X: pd.DataFrame) -> np.ndarray:
    """The continuous output of a fitted model: class probabilities or values."""
    if task.classification:
        proba = model.predict_proba(X)
        return proba[:, 1] if proba.shape[1] == 2 else proba
    return np.asarray(model.predict(X), dtype=float)


def _oof_scores(task: Task, model: BaseEstimator) -> np.ndarray:
    method = "predict_proba" if task.classification else "predict"
    out = cross_val_predict(clone(model), task.X, task.y, cv=task.folds(), method=method)
    return out[:, 1] if out.ndim == 2 and out.shape[1] == 2 else out


def _decode(task: Task, scores: np.ndarray, tuning: tuple[np.ndarray, np.ndarray] | None = None):
    """Scores to the submission's values; with ``tuning`` (out-of-fold scores, truth), the
    F1 threshold or the QWK cut-offs are fitted on train first."""
    metric, labels = task.metric, task.entry.spec.labels or []
    if metric in ("log_loss", "roc_auc"):
        return np.clip(scores, 0.0, 1.0)
    if metric == "accuracy":
        classes = np.sort(task.y.unique())
        return classes[np.argmax(scores, axis=1)]
    if metric == "f1":
        threshold = _best_threshold(task, *tuning) if tuning else 0.5
        return (scores >= threshold).astype(int)
    if metric == "qwk":
        cuts = _best_cutoffs(task, *tuning) if tuning else np.arange(1.5, len(labels), 1.0)
        return np.asarray(labels)[np.searchsorted(cuts, scores)]
    if metric == "rmsle":
        return np.clip(scores, 0.0, None)
    return scores


def _best_threshold(task: Task, oof: np.ndarray, truth: np.ndarray) -> float:
    grid = np.linspace(0.05, 0.95, 37)
    return float(max(grid, key=lambda t: _metric(task, truth, (oof >= t).astype(int))))


def _best_cutoffs(task: Task, oof: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Rating cut-offs by coordinate search on out-of-fold predictions."""
    labels = task.entry.spec.labels or []
    cuts = np.arange(1.5, len(labels), 1.0)
    for _ in range(2):
        for i in range(len(cuts)):
            low = cuts[i - 1] if i else float(labels[0]) - 1
            high = cuts[i + 1] if i + 1 < len(cuts) else float(labels[-1]) + 1
            candidates = np.linspace(low, high, 22)[1:-1]

            def quality(c: float, i: int = i) -> float:
                trial = cuts.copy()
                trial[i] = c
                return _metric(task, truth, np.asarray(labels)[np.searchsorted(trial, oof)])

            cuts[i] = max(candidates, key=quality)
    return cuts


def _metric(task: Task, truth: np.ndarray, predicted: np.ndarray) -> float:
    """The competition metric on train rows, oriented so that higher is better."""
    ids = np.arange(len(truth))
    answers = pd.DataFrame({ID_COLUMN: ids, task.target: np.asarray(truth)})
    submission = pd.DataFrame({ID_COLUMN: ids, task.target: predicted})
    metric = METRICS[task.metric]
    value = metric.score(answers, submission, task.entry.spec)
    return -value if metric.lower_is_better else value


# --- recipe bodies ----------------------------------------------------------------------------


def _constant(task: Task) -> np.ndarray:
    return np.full(len(task.test), baseline_value(task.y, task.entry.baseline))


def _single(build: Callable[[Task], BaseEstimator], tuned: bool) -> Callable[[Task], np.ndarray]:
    def solve(task: Task) -> np.ndarray:
        if not tuned:
            model = build(task).fit(task.X, task.y)
            return _decode(task, _scores(task, model, task.X_test))
        oof, test_scores = _member(task, build)
        return _decode(task, test_scores, (oof, task.y.to_numpy()))

    return solve


# Out-of-fold and test scores of each (competition, seed, model), shared by the strong and top
# tiers so that one rebuild fits every tuned model once.
_MEMBERS: dict[tuple[str, int, str], tuple[np.ndarray, np.ndarray]] = {}


def _member(task: Task, build: Callable[[Task], BaseEstimator]) -> tuple[np.ndarray, np.ndarray]:
    """Fit (and grid-search) one model on train; its out-of-fold and test scores.

    The out-of-fold scores refit the chosen hyperparameters per fold rather than nesting the
    search: slightly optimistic, but it keeps a rebuild to minutes on two cores.
    """
    key = (task.entry.id, task.seed, build.__qualname__)
    if key not in _MEMBERS:
        model = build(task).fit(task.X, task.y)
        chosen = model.best_estimator_ if isinstance(model, GridSearchCV) else model
        oof = _oof_scores(task, chosen)
        _MEMBERS[key] = (oof, _scores(task, model, task.X_test))
    return _MEMBERS[key]


def _best_by_cv(builds: list[Callable[[Task], BaseEstimator]]) -> Callable[[Task], np.ndarray]:
    """Tune each candidate, keep the one whose out-of-fold metric is best."""

    def solve(task: Task) -> np.ndarray:
        truth = task.y.to_numpy()
        best: tuple[float, np.ndarray, np.ndarray] | None = None
        for build in builds:
            oof, test_scores = _member(task, build)
            quality = _metric(task, truth, _decode(task, oof, (oof, truth)))
            if best is None or quality > best[0]:
                best = (quality, oof, test_scores)
        assert best is not None
        _, oof, test_scores = best
        return _decode(task, test_scores, (oof, truth))

    return solve


def _blend(builds: list[Callable[[Task], BaseEstimator]]) -> Callable[[Task], np.ndarray]:
    """A weighted average of tuned models; weights on a 0.1 grid, chosen out of fold."""

    def solve(task: Task) -> np.ndarray:
        truth = task.y.to_numpy()
        members = [_member(task, build) for build in builds]
        best: tuple[float, np.ndarray, np.ndarray] | None = None
        for weights in itertools.product(np.linspace(0.0, 1.0, 11), repeat=len(members)):
            if not np.isclose(sum(weights), 1.0):
                continue
            oof = sum(w * m[0] for w, m in zip(weights, members, strict=True))
            test_scores = sum(w * m[1] for w, m in zip(weights, members, strict=True))
            quality = _metric(task, truth, _decode(task, oof, (oof, truth)))
            if best is None or quality > best[0]:
                best = (quality, np.asarray(oof), np.asarray(test_scores))
        assert best is not None
        _, oof, test_scores = best
        return _decode(task, test_scores, (oof, truth))

    return solve


def _text_length(task: Task) -> BaseEstimator:
    column = task.entry.text_columns[0]
    lengths = ColumnTransformer(
        [("len", CountVectorizer(analyzer=lambda text: ["w"] * len(str(text).split())), column)]
    )
    return Pipeline([("features", lengths), ("model", LogisticRegression())])


def _text_nb(task: Task) -> BaseEstimator:
    features = ColumnTransformer([("text", CountVectorizer(), task.entry.text_columns[0])])
    return Pipeline([("features", features), ("model", MultinomialNB())])


def _text_default_linear(task: Task) -> BaseEstimator:
    features = ColumnTransformer([("text", TfidfVectorizer(), task.entry.text_columns[0])])
    return Pipeline([("features", features), ("model", LogisticRegression())])


def recipes_for(entry: SuiteCompetition) -> list[Recipe]:
    """The reference recipes of one competition, naive to top."""

    def word(task: Task) -> BaseEstimator:
        return _tuned_text_linear(task, "word")

    def char(task: Task) -> BaseEstimator:
        return _tuned_text_linear(task, "char")

    naive = Recipe("constant-baseline", "naive", (0,), _constant)
    if entry.text_columns:
        return [
            naive,
            Recipe("review-length-logistic", "beginner", (0,), _single(_text_length, False)),
            Recipe("word-count-naive-bayes", "beginner", (0,), _single(_text_nb, False)),
            Recipe(
                "tfidf-logistic-default", "intermediate", (0,), _single(_text_default_linear, False)
            ),
            Recipe("tfidf-bigram-logistic-cv", "strong", (0, 1), _best_by_cv([word])),
            Recipe("word-char-tfidf-blend-cv", "top", (0, 1), _blend([word, char])),
        ]
    return [
        naive,
        Recipe("linear-top3-numeric-default", "beginner", (0,), _single(_beginner_linear, False)),
        Recipe("knn-numeric-default", "beginner", (0,), _single(_beginner_knn, False)),
        Recipe("random-forest-default", "intermediate", (0, 1), _single(_forest, False)),
        Recipe("gradient-boosting-default", "intermediate", (0,), _single(_default_gbm, False)),
        Recipe("linear-all-default", "intermediate", (0,), _single(_default_linear, False)),
        Recipe(
            "best-of-tuned-linear-gbm-cv",
            "strong",
            (0, 1),
            _best_by_cv([_tuned_linear, _tuned_gbm]),
        ),
        Recipe(
            "tuned-linear-gbm-forest-blend-cv",
            "top",
            (0, 1),
            _blend([_tuned_linear, _tuned_gbm, _forest]),
        ),
    ]
