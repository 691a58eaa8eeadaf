"""Metrics and thresholds against scikit-learn on the same predictions (no Spark needed)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from lakeforge.training.config import ThresholdSpec
from lakeforge.training.features import components_for_variance
from lakeforge.training.metrics import classification_metrics, regression_metrics, summarize
from lakeforge.training.thresholds import best_threshold


@pytest.fixture
def predictions():
    rng = np.random.default_rng(5)
    y = (rng.random(500) < 0.27).astype(float)
    # Rounded so that tied scores occur, which is where AUC and AP implementations differ.
    p = np.round(np.clip(0.35 * y + rng.random(500) * 0.65, 0, 1), 2)
    return y, p


def test_classification_metrics_equal_scikit_learn(predictions):
    y, p = predictions
    got = classification_metrics(y, p, threshold=0.4)
    predicted = (p >= 0.4).astype(int)
    expected = {
        "accuracy": sk.accuracy_score(y, predicted),
        "precision": sk.precision_score(y, predicted),
        "recall": sk.recall_score(y, predicted),
        "f1": sk.f1_score(y, predicted),
        "precision_macro": sk.precision_score(y, predicted, average="macro"),
        "recall_macro": sk.recall_score(y, predicted, average="macro"),
        "f1_macro": sk.f1_score(y, predicted, average="macro"),
        "roc_auc": sk.roc_auc_score(y, p),
        "pr_auc": sk.average_precision_score(y, p),
        "log_loss": sk.log_loss(y, p),
    }
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=1e-12), name
    (tn, fp), (fn, tp) = sk.confusion_matrix(y, predicted)
    assert [got["tn"], got["fp"], got["fn"], got["tp"]] == [tn, fp, fn, tp]


def test_regression_metrics_equal_scikit_learn():
    rng = np.random.default_rng(9)
    y = rng.lognormal(12, 0.5, 300)
    pred = y * rng.normal(1, 0.2, 300)
    got = regression_metrics(y, pred)
    assert got["rmse"] == pytest.approx(np.sqrt(sk.mean_squared_error(y, pred)), rel=1e-12)
    assert got["mae"] == pytest.approx(sk.mean_absolute_error(y, pred), rel=1e-12)
    assert got["r2"] == pytest.approx(sk.r2_score(y, pred), rel=1e-12)
    assert got["mape"] == pytest.approx(sk.mean_absolute_percentage_error(y, pred), rel=1e-12)


def test_max_f1_threshold_is_the_best_cut(predictions):
    y, p = predictions
    chosen = best_threshold(y, p, ThresholdSpec(strategy="max_f1"))
    f1_at = {t: sk.f1_score(y, (p >= t).astype(int)) for t in np.unique(p)}
    assert sk.f1_score(y, (p >= chosen).astype(int)) == pytest.approx(max(f1_at.values()))


def test_cost_threshold_minimises_cost(predictions):
    y, p = predictions
    spec = ThresholdSpec(strategy="cost", false_negative_cost=4.0)

    def cost(t):
        (_, fp), (fn, _) = sk.confusion_matrix(y, (p >= t).astype(int))
        return 4.0 * fn + fp

    assert cost(best_threshold(y, p, spec)) == min(cost(t) for t in np.unique(p))


def test_summary_is_mean_and_std_over_folds():
    folds = [{"rmse": 1.0, "r2": 0.5}, {"rmse": 3.0, "r2": 0.7}]
    assert summarize(folds) == {"rmse": {"mean": 2.0, "std": 1.0}, "r2": {"mean": pytest.approx(0.6), "std": pytest.approx(0.1)}}


def test_components_for_variance_takes_the_fewest_that_reach_the_target():
    variance = np.array([0.5, 0.3, 0.15, 0.05])
    assert components_for_variance(variance, 0.8) == 2
    assert components_for_variance(variance, 0.81) == 3
    assert components_for_variance(variance, 1.0) == 4
