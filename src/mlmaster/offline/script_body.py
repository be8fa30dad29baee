"""The solution runtime that every offline-generated script carries inside itself.

Generated scripts run with the scripts' own Python environment (numpy, pandas, scikit-learn,
optionally lightgbm), where mlmaster is NOT installed. So the rendered script is this file's
source followed by a ``CONFIG`` literal (the data profile plus the recipe) and a call to
:func:`main`. Everything here must therefore import only the scripts' ML stack.

What :func:`main` does, in order: read ``./input``, build features (imputation, encodings fit on
the training folds only, TF-IDF, date parts), fit every model of the recipe with k-fold
cross-validation, post-process (threshold / cut-off tuning, rounding, clipping), print exactly one
``VALIDATION_METRIC: <float>`` line with the competition's own metric on the out-of-fold
predictions, and write ``./submission/submission.csv`` in the sample submission's exact format.
"""

import itertools
import json  # noqa: F401  # the rendered script parses its CONFIG literal with it
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import TruncatedSVD
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV, Ridge, RidgeCV
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    mean_squared_log_error,
    r2_score,
    roc_auc_score,
)
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler, TargetEncoder

INPUT = Path("input")
SUBMISSION = Path("submission") / "submission.csv"
# When the harness holds training rows back, it asks for their predictions beside the test's.
HOLDOUT_INPUT = INPUT / "holdout.csv"
HOLDOUT_SUBMISSION = Path("submission") / "holdout.csv"
# The slot's CPUs: OMP_NUM_THREADS when the executor sets it, else the CPUs we may run on.
N_JOBS = max(1, int(os.environ.get("OMP_NUM_THREADS") or len(os.sched_getaffinity(0)) or 1))
# The grader clips log-loss probabilities to [eps, 1 - eps], as Kaggle and MLE-bench do.
LOG_LOSS_EPS = 1e-15
METRIC_PREFIX = "VALIDATION_METRIC:"
ROW = "__row__"  # row number column: train rows first, then test rows

# Families whose inputs may stay sparse and need scaling; the others get dense, unscaled input.
SPARSE_FAMILIES = ("linear", "knn")


# ---------------------------------------------------------------- competition metrics


def map_at_k(y_true, ranked, k):
    """Mean average precision at k with one true label per row (ranked: list of label lists)."""
    total = 0.0
    for truth, guesses in zip(y_true, ranked, strict=True):
        for position, guess in enumerate(guesses[:k]):
            if str(guess) == str(truth):
                total += 1.0 / (position + 1)
                break
    return total / max(len(ranked), 1)


def single_score(name, y_true, pred, cfg):
    """The competition's metric for one target: labels, probabilities or values as it wants."""
    positive = cfg.get("positive_label")
    if name == "accuracy":
        return accuracy_score(y_true.astype(str), pred.astype(str))
    if name in ("roc_auc", "roc_auc_multilabel"):
        if pred.ndim == 2:
            return roc_auc_score(y_true, pred, multi_class="ovr", labels=cfg["classes"])
        return roc_auc_score((y_true == positive).astype(int), pred)
    if name == "log_loss":
        if pred.ndim == 2:
            # As the grader: each row divided by its sum (an all-zero row: uniform), clipped.
            sums = pred.sum(axis=1, keepdims=True)
            rows = np.divide(pred, sums, out=np.full_like(pred, 1 / pred.shape[1]), where=sums > 0)
            rows = np.clip(rows, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
            return log_loss(y_true, rows, labels=cfg["classes"])
        clipped = np.clip(pred, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
        return log_loss((y_true == positive).astype(int), clipped, labels=[0, 1])
    if name == "rmse":
        return float(np.sqrt(mean_squared_error(y_true, pred)))
    if name == "rmsle":
        return float(
            np.sqrt(mean_squared_log_error(np.clip(y_true, 0, None), np.clip(pred, 0, None)))
        )
    if name == "mae":
        return mean_absolute_error(y_true, pred)
    if name == "mse":
        return mean_squared_error(y_true, pred)
    if name == "r2":
        return r2_score(y_true, pred)
    if name == "f1":
        return f1_score(y_true.astype(str), pred.astype(str), pos_label=str(positive))
    if name in ("f1_macro", "f1_micro"):
        return f1_score(y_true.astype(str), pred.astype(str), average=name.split("_")[1])
    if name == "qwk":
        return cohen_kappa_score(
            y_true.astype(int), np.asarray(pred).astype(int), weights="quadratic"
        )
    if name == "map_at_k":
        return map_at_k(y_true, pred, cfg.get("metric_k") or 3)
    raise ValueError(f"offline scripts cannot compute the metric {name!r}")


def competition_score(cfg, truths, preds):
    """The metric over every target column: the mean of each column's score, as the grader."""
    name = cfg["metric"]
    return float(
        np.mean([single_score(name, t, p, cfg) for t, p in zip(truths, preds, strict=True)])
    )


def is_better(cfg, new, old):
    return new < old if cfg["lower_is_better"] else new > old


# ---------------------------------------------------------------- features


def clean_frame(frame, cols):
    """Typed copies of the feature columns: numbers, category strings, text, date parts."""
    out = pd.DataFrame(index=frame.index)
    for c in cols["numeric"]:
        out[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    for c in cols["categorical"]:
        values = frame[c].astype(object)
        out[c] = values.where(values.notna(), "__missing__").astype(str)
    for c in cols["text"]:
        out[c] = frame[c].fillna("").astype(str)
    for c in cols["date"]:
        stamps = pd.to_datetime(frame[c], errors="coerce", format="mixed")
        for part in ("year", "month", "day", "day_of_week", "hour"):
            out[f"{c}__{part}"] = getattr(stamps.dt, part).astype(float)
    return out


def date_part_columns(cols):
    return [
        f"{c}__{p}" for c in cols["date"] for p in ("year", "month", "day", "day_of_week", "hour")
    ]


class CappedSVD(TruncatedSVD):
    """Truncated SVD that asks for no more components than the vocabulary allows."""

    def fit_transform(self, X, y=None):
        self.n_components: int = max(1, min(self.n_components, X.shape[1] - 1))
        return super().fit_transform(X, y)


def text_transformers(column, steps, dense, seed):
    """TF-IDF (word, optionally char) for one text column; reduced by SVD for dense models."""
    word = TfidfVectorizer(
        ngram_range=(1, steps["ngram_max"]),
        min_df=2,
        max_features=steps["text_max_features"],
        sublinear_tf=True,
    )
    parts = [(f"tfidf_{column}", word, column)]
    if steps["char_ngrams"]:
        char = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(3, 5),
            min_df=3,
            max_features=steps["text_max_features"],
            sublinear_tf=True,
        )
        parts.append((f"chars_{column}", char, column))
    if not dense:
        return parts
    reduced = []
    for name, vectorizer, col in parts:
        svd = CappedSVD(n_components=steps["svd_components"], random_state=seed)
        reduced.append((name, Pipeline([("tfidf", vectorizer), ("svd", svd)]), col))
    return reduced


class PrecomputedRows(BaseEstimator, TransformerMixin):
    """Rows of a matrix computed once for train and test, looked up by row number."""

    def __init__(self, matrix=None):
        self.matrix = matrix

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return self.matrix[np.asarray(X).reshape(-1).astype(int)]


class TextFeatures:
    """TF-IDF of the text columns, computed once per run instead of once per fold.

    The vectorizers are fit on the training table's text only (never the test's, never the
    labels): vocabulary and IDF weights are unsupervised, so sharing them across folds leaks
    nothing the model could not know. Refitting per fold costs minutes on larger text tables.
    Rows are numbered train first, then test (the ``ROW`` column of the feature frames).
    """

    def __init__(self, train, test, cols, steps, seed):
        self.train, self.test, self.cols, self.steps, self.seed = train, test, cols, steps, seed
        self.matrices = {}

    def matrix(self, dense):
        if dense not in self.matrices:
            train_parts, test_parts = [], []
            for c in self.cols["text"]:
                for _, vectorizer, _ in text_transformers(c, self.steps, dense, self.seed):
                    train_parts.append(vectorizer.fit_transform(self.train[c]))
                    test_parts.append(vectorizer.transform(self.test[c]))
            if dense:
                stacked = np.vstack([np.hstack(train_parts), np.hstack(test_parts)])
            else:
                stacked = sparse.vstack([sparse.hstack(train_parts), sparse.hstack(test_parts)])
                stacked = stacked.tocsr()
            self.matrices[dense] = stacked
        return self.matrices[dense]


def make_preprocessor(cols, numeric, family, steps, target_type, seed, text):
    """Column transformer fit inside each training fold, so encodings never see held-out rows."""
    sparse_ok = family in SPARSE_FAMILIES
    scale = [("scale", StandardScaler())] if sparse_ok else []
    transformers = []
    if numeric:
        imputer = SimpleImputer(strategy=steps["impute"], add_indicator=steps["missing_indicators"])
        transformers.append(("num", Pipeline([("impute", imputer), *scale]), numeric))
    if cols["categorical"]:
        if sparse_ok or steps["encoding"] == "onehot":
            encoder = OneHotEncoder(
                handle_unknown="infrequent_if_exist",
                max_categories=steps["max_levels"],
                sparse_output=sparse_ok,
            )
        else:
            encoder = OrdinalEncoder(
                handle_unknown="use_encoded_value",
                unknown_value=-1,
                encoded_missing_value=-1,
            )
        transformers.append(("cat", encoder, cols["categorical"]))
    target_encoded = [
        c for c in steps["target_encode"] if c in cols["numeric"] + cols["categorical"]
    ]
    if target_encoded:
        encoder = TargetEncoder(target_type=target_type, random_state=seed)
        transformers.append(("te", Pipeline([("encode", encoder), *scale]), target_encoded))
    if cols["text"]:
        transformers.append(("text", PrecomputedRows(text.matrix(not sparse_ok)), [ROW]))
    return ColumnTransformer(transformers, sparse_threshold=0.3 if sparse_ok else 0.0)


# ---------------------------------------------------------------- models


def lightgbm_or_none():
    try:
        import lightgbm  # optional in the scripts' environment
    except ImportError:
        print("lightgbm is not installed here; using histogram gradient boosting instead")
        return None
    return lightgbm


def make_model(family, params, classifier, seed):
    """One estimator of a family with the recipe's hyperparameters over sensible defaults."""
    p = dict(params)
    if family == "lightgbm":
        lgb = lightgbm_or_none()
        if lgb is not None:
            base = {
                "n_estimators": 400,
                "learning_rate": 0.05,
                "num_leaves": 31,
                "subsample": 0.8,
                "subsample_freq": 1,
                "colsample_bytree": 0.8,
                "min_child_samples": 20,
                "verbose": -1,
                "n_jobs": N_JOBS,
                "random_state": seed,
            }
            base.update(p)
            return lgb.LGBMClassifier(**base) if classifier else lgb.LGBMRegressor(**base)
        family, p = "hist_gb", {}
    if family == "linear":
        # "cv": the penalty is chosen by an inner cross-validation on the training fold.
        if classifier and p.get("C") == "cv":
            scoring = p.get("scoring") or "accuracy"
            return LogisticRegressionCV(
                Cs=np.logspace(-2, 2, 5), cv=3, scoring=scoring, max_iter=3000
            )
        if classifier:
            return LogisticRegression(C=p.get("C", 1.0), max_iter=3000)
        if p.get("alpha") == "cv":
            return RidgeCV(alphas=np.logspace(-2, 3, 11))
        return Ridge(alpha=p.get("alpha", 1.0))
    if family in ("random_forest", "extra_trees"):
        base = {
            "n_estimators": 300,
            "min_samples_leaf": 1,
            "max_features": "sqrt" if classifier else 0.5,
            "n_jobs": N_JOBS,
            "random_state": seed,
        }
        base.update(p)
        forest = {
            ("random_forest", True): RandomForestClassifier,
            ("random_forest", False): RandomForestRegressor,
            ("extra_trees", True): ExtraTreesClassifier,
            ("extra_trees", False): ExtraTreesRegressor,
        }[(family, classifier)]
        return forest(**base)
    if family == "hist_gb":
        base = {
            "learning_rate": 0.06,
            "max_iter": 400,
            "max_leaf_nodes": 31,
            "l2_regularization": 0.0,
            "early_stopping": True,
            "validation_fraction": 0.1,
            "n_iter_no_change": 30,
            "random_state": seed,
        }
        base.update(p)
        gbm = HistGradientBoostingClassifier if classifier else HistGradientBoostingRegressor
        return gbm(**base)
    if family == "knn":
        base = {"n_neighbors": 15, "weights": "distance"}
        base.update(p)
        return KNeighborsClassifier(**base) if classifier else KNeighborsRegressor(**base)
    raise ValueError(f"unknown model family {family!r}")


def make_pipeline(cfg, cols, numeric, member, classifier, target_type, text):
    recipe = cfg["recipe"]
    seed = recipe["seed"]
    model = make_model(member["family"], member["params"], classifier, seed)
    steps = recipe["features"]
    pre = make_preprocessor(cols, numeric, member["family"], steps, target_type, seed, text)
    pipeline = Pipeline([("features", pre), ("model", model)])
    if classifier and recipe["calibrate"]:
        return CalibratedClassifierCV(pipeline, method="sigmoid", cv=3)
    return pipeline


# ---------------------------------------------------------------- cross-validation


def splitter(cfg, y, classifier):
    folds = cfg["recipe"]["folds"]
    seed = cfg["recipe"].get("cv_seed")
    if seed is None:
        seed = cfg["recipe"]["seed"]
    if classifier or cfg["task"] == "ordinal":
        _, counts = np.unique(y.astype(str), return_counts=True)
        if counts.min() >= folds:
            return StratifiedKFold(folds, shuffle=True, random_state=seed)
    return KFold(folds, shuffle=True, random_state=seed)


def predict_block(model, X, classifier, classes):
    """Probabilities aligned to ``classes`` (classifier) or one column of values (regressor)."""
    if not classifier:
        return np.asarray(model.predict(X), dtype=float).reshape(-1, 1)
    proba = model.predict_proba(X)
    aligned = np.zeros((len(X), len(classes)))
    for j, code in enumerate(model.classes_):  # classifiers are fit on class indices
        aligned[:, int(code)] = proba[:, j]
    return aligned


def fit_target(cfg, y, classifier, classes):
    """What models are fit on: class indices, or values (log1p when the recipe says so)."""
    if classifier:
        index = {str(c): i for i, c in enumerate(classes)}
        return np.array([index[str(v)] for v in y], dtype=int)
    if cfg["recipe"]["target_transform"] == "log1p":
        return np.log1p(np.clip(y, 0, None))
    return y


def cross_fit(cfg, cols, numeric, X, y, X_test, classifier, classes, target_type, text):
    """Out-of-fold and fold-averaged test predictions, averaged over the recipe's models."""
    width = len(classes) if classifier else 1
    oof = np.zeros((len(X), width))
    test = np.zeros((len(X_test), width))
    members = cfg["recipe"]["models"]
    y_fit = fit_target(cfg, y, classifier, classes)
    folds = splitter(cfg, y, classifier).split(X, y_fit if classifier else y.astype(str))
    for fold, (train_idx, valid_idx) in enumerate(folds):
        started = time.time()
        for member in members:
            model = make_pipeline(cfg, cols, numeric, member, classifier, target_type, text)
            model.fit(X.iloc[train_idx], y_fit[train_idx])
            oof[valid_idx] += predict_block(model, X.iloc[valid_idx], classifier, classes)
            test += predict_block(model, X_test, classifier, classes) / cfg["recipe"]["folds"]
        print(f"fold {fold + 1}/{cfg['recipe']['folds']} fitted in {time.time() - started:.1f}s")
    oof /= len(members)
    test /= len(members)
    if not classifier and cfg["recipe"]["target_transform"] == "log1p":
        oof, test = np.expm1(oof), np.expm1(test)
    return oof, test


# ---------------------------------------------------------------- post-processing


def tune_threshold(cfg, y, proba):
    """The probability cut that scores best on the out-of-fold predictions (e.g. for F1)."""
    positive, negative = cfg["positive_label"], cfg["negative_label"]
    best_t, best = 0.5, None
    for t in np.linspace(0.05, 0.95, 91):
        labels = np.where(proba >= t, positive, negative)
        s = single_score(cfg["metric"], y, labels, cfg)
        if best is None or is_better(cfg, s, best):
            best_t, best = float(t), s
    print(f"tuned threshold {best_t:.2f}")
    return best_t


def apply_cutoffs(values, labels, cutoffs):
    return np.asarray(labels)[np.searchsorted(np.asarray(cutoffs), values)]


def tune_cutoffs(cfg, y, values, labels):
    """Ordinal cut-offs between the integer labels, refined coordinate by coordinate on OOF."""
    cutoffs = [(a + b) / 2 for a, b in itertools.pairwise(labels)]
    best = single_score(cfg["metric"], y, apply_cutoffs(values, labels, cutoffs), cfg)
    for _ in range(2):
        for i in range(len(cutoffs)):
            low = cutoffs[i - 1] if i > 0 else labels[0] - 1
            high = cutoffs[i + 1] if i + 1 < len(cutoffs) else labels[-1] + 1
            for candidate in np.linspace(low, high, 23)[1:-1]:
                trial = [*cutoffs[:i], float(candidate), *cutoffs[i + 1 :]]
                s = single_score(cfg["metric"], y, apply_cutoffs(values, labels, trial), cfg)
                if is_better(cfg, s, best):
                    best, cutoffs = s, trial
    print("tuned cut-offs " + ", ".join(f"{c:.2f}" for c in cutoffs))
    return cutoffs


def finish_classes(cfg, y, oof, test, classes):
    """Turn class probabilities into what the submission wants: probabilities, labels or top-k."""
    output = cfg["output"]
    if output == "proba":
        if len(classes) == 2 and not cfg["class_columns"]:
            pos = [str(c) for c in classes].index(str(cfg["positive_label"]))
            return oof[:, pos], test[:, pos]
        return oof, test
    if output == "ranking":
        k = cfg.get("metric_k") or 3
        order_oof = np.argsort(-oof, axis=1)[:, :k]
        order_test = np.argsort(-test, axis=1)[:, :k]
        names = np.asarray(classes, dtype=object)
        return [list(names[r]) for r in order_oof], [list(names[r]) for r in order_test]
    if len(classes) == 2 and cfg["recipe"]["tune_threshold"]:
        pos = [str(c) for c in classes].index(str(cfg["positive_label"]))
        t = tune_threshold(cfg, y, oof[:, pos])
        pick = np.array([cfg["negative_label"], cfg["positive_label"]], dtype=object)
        return pick[(oof[:, pos] >= t).astype(int)], pick[(test[:, pos] >= t).astype(int)]
    names = np.asarray(classes, dtype=object)
    return names[oof.argmax(axis=1)], names[test.argmax(axis=1)]


def finish_values(cfg, y, oof, test):
    """Regression values, or ordinal labels by rounding or tuned cut-offs."""
    oof, test = oof[:, 0], test[:, 0]
    if cfg["metric"] == "rmsle" or cfg.get("non_negative"):
        oof, test = np.clip(oof, 0, None), np.clip(test, 0, None)
    if cfg["task"] != "ordinal":
        return oof, test
    labels = sorted(int(v) for v in (cfg["labels"] or np.unique(y)))
    if cfg["recipe"]["tune_cutoffs"]:
        cutoffs = tune_cutoffs(cfg, y, oof, labels)
    else:
        cutoffs = [(a + b) / 2 for a, b in itertools.pairwise(labels)]
    return apply_cutoffs(oof, labels, cutoffs), apply_cutoffs(test, labels, cutoffs)


# ---------------------------------------------------------------- submission


def write_submission(cfg, sample, test_frame, predictions, path=SUBMISSION):
    """The sample submission's exact columns (and its row order for the test set), filled
    with our predictions."""
    id_col = cfg["id_column"]
    rows = pd.DataFrame(index=range(len(test_frame)))
    rows[id_col] = test_frame[id_col].to_numpy() if id_col in test_frame else sample[id_col]
    for column, values in predictions.items():
        if isinstance(values, list):  # top-k rankings
            rows[column] = [" ".join(str(v) for v in r) for r in values]
        elif np.ndim(values) == 2:  # one probability column per class
            for j, cls in enumerate(cfg["classes"]):
                rows[str(cls)] = values[:, j]
        else:
            rows[column] = values
    if set(rows[id_col].astype(str)) == set(sample[id_col].astype(str)):
        by_id = rows.set_index(rows[id_col].astype(str))
        rows = by_id.loc[sample[id_col].astype(str)].reset_index(drop=True)
        rows[id_col] = sample[id_col].to_numpy()
    missing = [c for c in sample.columns if c not in rows.columns]
    if missing:
        raise KeyError(f"submission would lack the sample's columns {missing}")
    submission = rows[list(sample.columns)]
    for c in sample.columns:
        if c != id_col and pd.api.types.is_integer_dtype(sample[c]) and cfg["output"] == "label":
            submission[c] = submission[c].astype(int)
    path.parent.mkdir(parents=True, exist_ok=True)
    submission.to_csv(path, index=False)
    print(f"wrote {path} with {len(submission)} rows")


def rows_of(predictions, start, stop):
    """The predictions of rows start..stop (lists, 1-D and 2-D arrays alike)."""
    return {column: values[start:stop] for column, values in predictions.items()}


# ---------------------------------------------------------------- the whole run


def resolve_columns(cfg, train, test):
    """The profiled feature columns that both tables really have, minus the recipe's drops."""
    drops = set(cfg["recipe"]["features"]["drop_columns"])
    cols = {}
    for kind in ("numeric", "categorical", "text", "date"):
        cols[kind] = [
            c for c in cfg["columns"][kind] if c in train and c in test and c not in drops
        ]
    if not cfg["recipe"]["features"]["date_parts"]:
        cols["date"] = []
    return cols


def target_kind(cfg, y):
    """(classifier?, classes, TargetEncoder target type) for one target column."""
    if cfg["task"] in ("regression", "ordinal"):
        return False, [], "continuous"
    classes = cfg["classes"] if cfg.get("classes") else sorted(pd.unique(y).tolist(), key=str)
    if cfg["class_columns"]:
        classes = [label_text(c) for c in classes]  # named as the submission's columns
    return True, classes, "binary" if len(classes) == 2 else "multiclass"


def label_text(value):
    """A label as a column name spells it: 3.0 and 3 -> "3", "cat" -> "cat"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def main(cfg):
    warnings.filterwarnings("ignore")
    started = time.time()
    recipe = cfg["recipe"]
    train = pd.read_csv(INPUT / cfg["train_file"], low_memory=False)
    test_frame = pd.read_csv(INPUT / cfg["test_file"], low_memory=False)
    n_test = len(test_frame)
    if HOLDOUT_INPUT.is_file():  # predicted with the test rows, written apart
        holdout = pd.read_csv(HOLDOUT_INPUT, low_memory=False)
        test_frame = pd.concat([test_frame, holdout], ignore_index=True)
    sample = pd.read_csv(INPUT / cfg["sample_file"])
    train = train.dropna(subset=cfg["target_columns"]).reset_index(drop=True)
    if recipe["max_train_rows"] and len(train) > recipe["max_train_rows"]:
        train = train.sample(recipe["max_train_rows"], random_state=recipe["seed"])
        train = train.reset_index(drop=True)
    cols = resolve_columns(cfg, train, test_frame)
    X, X_test = clean_frame(train, cols), clean_frame(test_frame, cols)
    text = TextFeatures(X, X_test, cols, recipe["features"], recipe["seed"])
    X[ROW] = np.arange(len(X))
    X_test[ROW] = len(X) + np.arange(len(X_test))
    numeric = cols["numeric"] + date_part_columns(cols)
    print(
        f"train {X.shape}, test {X_test.shape}, models: "
        + " + ".join(m["family"] for m in recipe["models"])
    )

    truths, oofs, predictions = [], [], {}
    for target in cfg["target_columns"]:
        y = train[target].to_numpy()
        classifier, classes, target_type = target_kind(cfg, y)
        if classifier:
            y = y.astype(object)
            if cfg["class_columns"]:
                y = np.array([label_text(v) for v in y], dtype=object)
            cfg["classes"] = classes
        else:
            y = y.astype(float)
        oof, test = cross_fit(
            cfg, cols, numeric, X, y, X_test, classifier, classes, target_type, text
        )
        if classifier:
            oof, test = finish_classes(cfg, y, oof, test, classes)
        else:
            oof, test = finish_values(cfg, y, oof, test)
        truths.append(y)
        oofs.append(oof)
        predictions[target] = test

    score = competition_score(cfg, truths, oofs)
    print(f"{recipe['folds']}-fold CV {cfg['metric']}: {score:.6f} ({time.time() - started:.1f}s)")
    print(f"{METRIC_PREFIX} {score:.6f}")
    write_submission(cfg, sample, test_frame.iloc[:n_test], rows_of(predictions, 0, n_test))
    if len(test_frame) > n_test:
        held = test_frame.iloc[n_test:].reset_index(drop=True)
        write_submission(cfg, sample, held, rows_of(predictions, n_test, None), HOLDOUT_SUBMISSION)
