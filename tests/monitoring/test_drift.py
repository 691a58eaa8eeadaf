"""Drift statistics computed in Spark against the training profile, checked against scipy and numpy on
the same samples, and drift injected in one feature found on that feature only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from monitoring.logs import DAY0, PLANS, log_frame, log_rows, sample
from pyspark.sql import functions as F
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp

from lakeforge.config import load_config
from lakeforge.monitoring.alerts import breaches
from lakeforge.monitoring.config import MonitoringConfig
from lakeforge.monitoring.monitors import feature_drift
from lakeforge.monitoring.windows import in_windows, typed_features
from lakeforge.quality.profile import TrainingProfile, profile_features

ROOT = Path(__file__).resolve().parents[2]
TRAIN = sample(3000, seed=1)


@pytest.fixture(scope="module")
def profile(spark) -> TrainingProfile:
    frame = spark.createDataFrame(TRAIN.astype({"charges": "float64"}))
    return TrainingProfile(task="classification", features=profile_features(frame, ["tenure", "charges"], ["plan"]))


@pytest.fixture(scope="module")
def drift_table(spark, profile):
    """Day 0: fresh data like training's; day 1: tenure shifted by 12 months, the rest unchanged."""
    rows = log_rows(CLEAN, day=0) + log_rows(SHIFTED, day=1)
    features = log_frame(spark, rows).transform(in_windows("1 day")).transform(typed_features(profile))
    return feature_drift(features, profile).localCheckpoint()


@pytest.fixture(scope="module")
def drift(drift_table) -> pd.DataFrame:
    result = drift_table.toPandas()
    result["day"] = (result["window_start"] - result["window_start"].min()).dt.days
    return result.set_index(["day", "feature"])


CLEAN = sample(2000, seed=2, charge_nulls=0.02)
SHIFTED = sample(2000, seed=3, tenure_shift=12)


def numpy_psi(expected: np.ndarray, actual: np.ndarray, inner_edges: list[float]) -> float:
    """PSI by hand over bins (-inf, e1), [e1, e2), ..., [ek, inf), shares floored at 1e-4."""
    edges = [-np.inf, *inner_edges, np.inf]
    e = np.maximum(np.histogram(expected, edges)[0] / len(expected), 1e-4)
    a = np.maximum(np.histogram(actual, edges)[0] / len(actual), 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


def present(values) -> np.ndarray:
    return np.array([v for v in values if v is not None], dtype=float)


def test_ks_equals_scipy_on_the_same_samples(drift):
    for day, data in ((0, CLEAN), (1, SHIFTED)):
        for feature in ("tenure", "charges"):
            expected = ks_2samp(present(TRAIN[feature]), present(data[feature])).statistic
            assert drift.loc[(day, feature), "ks"] == pytest.approx(expected, abs=1e-9), (day, feature)


def test_psi_equals_numpy_over_the_profile_bins(drift, profile):
    for day, data in ((0, CLEAN), (1, SHIFTED)):
        for feature in ("tenure", "charges"):
            expected = numpy_psi(present(TRAIN[feature]), present(data[feature]), profile.features[feature].psi_edges)
            assert drift.loc[(day, feature), "psi"] == pytest.approx(expected, rel=1e-9, abs=1e-12), (day, feature)


def test_profile_bins_split_training_values_into_deciles(profile):
    shares = profile.features["charges"].psi_shares()
    assert len(shares) == 10 and all(abs(share - 0.1) < 0.01 for share in shares)


def test_jensen_shannon_equals_scipy(drift):
    for day, data in ((0, CLEAN), (1, SHIFTED)):
        train = TRAIN["plan"].value_counts(normalize=True).reindex(PLANS)
        current = data["plan"].value_counts(normalize=True).reindex(PLANS).fillna(0)
        assert drift.loc[(day, "plan"), "js"] == pytest.approx(jensenshannon(train, current, base=2), abs=1e-9)


def test_null_rate_change_is_measured_against_training(drift):
    nulls = CLEAN["charges"].isna().mean()
    assert nulls > 0.01
    assert drift.loc[(0, "charges"), "null_rate"] == pytest.approx(nulls)
    assert drift.loc[(0, "charges"), "null_rate_change"] == pytest.approx(nulls)  # training had none
    assert drift.loc[(0, "charges"), "values"] == 2000 - round(nulls * 2000)


def test_drift_injected_in_one_feature_is_found_on_that_feature_only(drift):
    assert drift.loc[(1, "tenure"), "psi"] > 0.2 and drift.loc[(1, "tenure"), "ks"] > 0.15
    for feature in ("charges",):
        assert drift.loc[(1, feature), "psi"] < 0.05 and drift.loc[(1, feature), "ks"] < 0.05
    assert drift.loc[(1, "plan"), "js"] < 0.05
    assert drift.loc[(0, "tenure"), "psi"] < 0.05 and drift.loc[(0, "tenure"), "ks"] < 0.05


def test_unseen_categories_are_the_share_of_rows_training_never_saw(spark, profile):
    data = sample(1000, seed=4)
    data.loc[:99, "plan"] = "enterprise"
    features = log_frame(spark, log_rows(data, day=0)).transform(in_windows("1 day")).transform(typed_features(profile))
    row = feature_drift(features, profile).where("feature = 'plan'").first()
    assert row["unseen_share"] == pytest.approx(0.1)


def test_the_configured_drift_rules_alert_on_the_drifted_feature_only(drift_table):
    """conf/monitoring.yml's rules: PSI (one window) fires for tenure on day 1; KS needs two windows in
    breach and tenure drifted in one, so it stays quiet; clean day 0 alone raises nothing."""
    rules = [rule for rule in load_config(ROOT / "conf/monitoring.yml", MonitoringConfig, env="local").rules if rule.monitor == "drift"]
    day0 = drift_table.where(F.col("window_start") == F.lit(DAY0))
    assert [row for rule in rules for row in breaches(day0, rule).collect()] == []
    fired = [(rule.name, row["subject"]) for rule in rules for row in breaches(drift_table, rule).collect()]
    assert fired == [("feature_psi", "model_name=churn_test, model_version=1, feature=tenure")]
