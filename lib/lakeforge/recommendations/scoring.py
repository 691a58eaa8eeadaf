"""Numpy scoring shared by evaluation and the service: fold-in of a user's vector and top-K.

fold_in solves the same regularised least squares as one half-step of Spark ML's ALS for a single
user (ALS.computeFactors): regularisation regParam x (the user's number of rated items), and in
implicit mode Hu, Koren and Volinsky's confidence 1 + alpha x strength with preference 1.
"""

from __future__ import annotations

import numpy as np


def fold_in(
    item_factors: np.ndarray,
    items: np.ndarray,
    values: np.ndarray,
    *,
    implicit: bool,
    reg_param: float,
    alpha: float,
    gram: np.ndarray | None = None,
) -> np.ndarray:
    """The user vector that best explains `values` (ratings, or implicit strengths) on `items` (row
    indices of item_factors). gram: item_factors' Y^T Y, precomputed once per model (implicit mode)."""
    rank = item_factors.shape[1]
    rated = values > 0 if implicit else np.ones(len(values), dtype=bool)
    factors = item_factors[items].astype(np.float64)
    ridge = reg_param * max(int(rated.sum()), 1) * np.eye(rank)
    if implicit:
        confidence = alpha * np.abs(values)
        gram = gram if gram is not None else item_factors.T.astype(np.float64) @ item_factors
        lhs = gram + (factors * confidence[:, None]).T @ factors + ridge
        rhs = factors[rated].T @ (1.0 + confidence[rated])
    else:
        lhs = factors.T @ factors + ridge
        rhs = factors.T @ values
    return np.linalg.solve(lhs, rhs).astype(np.float32)


def top_k(scores: np.ndarray, exclude: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the k best, best first, leaving out the `exclude` indices."""
    scores = scores.astype(np.float32, copy=True)
    scores[exclude] = -np.inf
    k = min(k, len(scores) - len(np.unique(exclude)))
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    best = np.argpartition(-scores, k - 1)[:k]
    order = best[np.argsort(-scores[best], kind="stable")]
    return order, scores[order]
