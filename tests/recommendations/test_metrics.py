"""Ranking metrics, fold-in and top-K against hand computations and scikit-learn."""

import math

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from lakeforge.recommendations.evaluate import ranking_metrics
from lakeforge.recommendations.scoring import fold_in, top_k


def test_ranking_metrics_equal_a_hand_computation(spark):
    predicted = {1: [10, 20, 30], 2: [40, 50, 60]}
    relevant = {1: [20, 99], 2: [70]}
    # user 1: one hit (item 20) at rank 2 of 3, two relevant items; user 2: no hit.
    dcg = 1 / math.log2(3)
    ideal = 1 + 1 / math.log2(3)
    expected = {
        "precision_at_3": (1 / 3 + 0) / 2,
        "recall_at_3": (1 / 2 + 0) / 2,
        "ndcg_at_3": (dcg / ideal + 0) / 2,
        "map_at_3": ((1 / 2) / 2 + 0) / 2,  # precision at the hit, over min(relevant, k) = 2
    }
    assert ranking_metrics(spark, predicted, relevant, k=3) == pytest.approx(expected, abs=1e-12)


def test_explicit_fold_in_is_ridge_regression_on_the_item_factors():
    rng = np.random.default_rng(3)
    items = rng.normal(size=(30, 4)).astype(np.float32)
    rated, ratings = np.array([2, 5, 7, 11, 19]), np.array([5.0, 3.0, 4.5, 1.0, 2.0])
    vector = fold_in(items, rated, ratings, implicit=False, reg_param=0.1, alpha=1.0)
    # Spark's ALS scales the penalty by the user's number of ratings.
    expected = Ridge(alpha=0.1 * len(rated), fit_intercept=False).fit(items[rated], ratings).coef_
    np.testing.assert_allclose(vector, expected, rtol=1e-4, atol=1e-5)


def test_implicit_fold_in_is_weighted_least_squares_over_every_item():
    rng = np.random.default_rng(4)
    items = rng.normal(size=(25, 3)).astype(np.float32)
    touched, strengths = np.array([1, 4, 9]), np.array([1.0, 3.0, 8.0])
    vector = fold_in(items, touched, strengths, implicit=True, reg_param=0.05, alpha=2.0)
    # Hu-Koren-Volinsky: preference 1 on touched items (0 elsewhere), confidence 1 + alpha * strength.
    preference = np.zeros(25)
    preference[touched] = 1
    confidence = np.ones(25)
    confidence[touched] += 2.0 * strengths
    expected = Ridge(alpha=0.05 * 3, fit_intercept=False).fit(items, preference, sample_weight=confidence).coef_
    np.testing.assert_allclose(vector, expected, rtol=1e-4, atol=1e-5)


def test_top_k_is_best_first_and_leaves_out_excluded_items():
    scores = np.array([0.5, 2.0, -1.0, 3.0, 1.0, 2.5])
    rows, best = top_k(scores, exclude=np.array([3]), k=3)
    assert rows.tolist() == [5, 1, 4]
    assert best.tolist() == [2.5, 2.0, 1.0]
    assert top_k(scores, exclude=np.arange(6), k=3)[0].tolist() == []
