"""Synthetic rows in the likeness of a source table, so that its answers cannot be looked up.

Three bundled competitions come from datasets that ship inside scikit-learn, which every
solution script imports. Publishing their real rows would let a script find each test row in
``load_digits()`` and copy its label (a perfect score). Adding noise is not enough: a noisy row
is still nearer to its own source row than to any other, so a nearest-neighbour lookup still
finds it. Instead these competitions publish *new* rows, the way Kaggle's Playground Series
publishes data generated from an original dataset:

- a Gaussian copula is fitted to the source table, per class for classification (so each
  label keeps its own feature distribution) and jointly with the target for regression (so
  the target keeps its relation to the features);
- as many rows as the source had are drawn from it, all seeded;
- each column keeps its marginal distribution (values are quantiles of the source column,
  discrete columns only take values they had) and its precision (decimals).

The columns keep their rank correlations, so the task stays learnable, but no published row is
a source row: a lookup only finds a neighbour, which is worth no more than an honest model. The
generator is deterministic (builds are reproducible), so a script that re-implemented it bit
for bit could regenerate the rows; it guards against lookups, not against that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

# Columns with at most this many distinct values are discrete: draws only take those values.
DISCRETE_LEVELS = 20
# Mixed into the correlation matrix so that it is positive definite (few rows, many columns).
SHRINKAGE = 0.05
MAX_DECIMALS = 8


def synthesize(
    table: pd.DataFrame, target: str, by_class: bool, rng: np.random.Generator
) -> pd.DataFrame:
    """A table shaped like ``table`` (same columns, dtypes and class counts) of drawn rows."""
    if not by_class:
        return copula_sample(table, len(table), rng)
    parts = []
    for label, group in table.groupby(target, sort=True):
        drawn = copula_sample(group.drop(columns=[target]), len(group), rng)
        parts.append(drawn.assign(**{target: label}))
    result = pd.concat(parts, ignore_index=True)[list(table.columns)]
    return result.astype(table.dtypes.to_dict())


def copula_sample(table: pd.DataFrame, rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """``rows`` draws from a Gaussian copula with ``table``'s marginals and rank correlations.

    Every column must be numeric.
    """
    values = table.to_numpy(dtype=float)
    normal_scores = stats.norm.ppf((stats.rankdata(values, axis=0) - 0.5) / len(values))
    correlation = _shrunk_correlation(normal_scores)
    # Cholesky rather than an eigendecomposition: unique, so the draws do not depend on the
    # linear-algebra library's choice of eigenvector signs.
    draws = rng.standard_normal((rows, values.shape[1])) @ np.linalg.cholesky(correlation).T
    uniforms = stats.norm.cdf(draws)
    columns = {}
    for index, name in enumerate(table.columns):
        source = values[:, index]
        if len(np.unique(source)) <= DISCRETE_LEVELS:
            drawn = np.quantile(source, uniforms[:, index], method="inverted_cdf")
        else:
            drawn = np.quantile(source, uniforms[:, index], method="linear")
        columns[name] = np.round(drawn, _decimals(source))
    return pd.DataFrame(columns).astype(table.dtypes.to_dict())


def _shrunk_correlation(scores: np.ndarray) -> np.ndarray:
    """The correlation of the normal scores; constant columns are uncorrelated with the rest."""
    varying = scores.std(axis=0) > 0
    correlation = np.eye(scores.shape[1])
    if varying.sum() > 1:
        inner = np.corrcoef(scores[:, varying], rowvar=False)
        correlation[np.ix_(varying, varying)] = inner
    return (1 - SHRINKAGE) * correlation + SHRINKAGE * np.eye(len(correlation))


def _decimals(column: np.ndarray) -> int:
    """The fewest decimals that write every value of ``column`` exactly (at most 8)."""
    for decimals in range(MAX_DECIMALS):
        if np.allclose(np.round(column, decimals), column, rtol=0, atol=1e-9):
            return decimals
    return MAX_DECIMALS
