"""Derived features: a ratio and a log-scaled column that carry the signal are learned far better with
them on; the saved pipeline derives them from raw text rows; skewed columns and geographic clusters
are found on the training rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.regression import LinearRegression

from lakeforge.training.columns import LABEL, ColumnRoles
from lakeforge.training.config import DerivedSpec, FeatureSpec, GeoSpec
from lakeforge.training.derived import plan_derived
from lakeforge.training.features import FEATURES, feature_slot_names, preprocessing_stages

OFF = DerivedSpec(log1p=[], geo=GeoSpec(clusters=0))
ON = DerivedSpec(ratios={"a_per_b": ("a", "b")})
ROLES = ColumnRoles(numeric=("a", "b", "x", "z"), categorical=())


def signal_rows(rows: int, seed: int) -> pd.DataFrame:
    """The label is 4 a/b + 3 log1p(x) + noise; z is noise with negative values."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(1, 10, rows), rng.uniform(1, 10, rows)
    x, z = rng.lognormal(0, 1.5, rows), rng.normal(0, 1, rows)
    label = 4 * a / b + 3 * np.log1p(x) + rng.normal(0, 0.3, rows)
    return pd.DataFrame({"a": a, "b": b, "x": x, "z": z, LABEL: label})


@pytest.fixture(scope="module")
def train(spark):
    return spark.createDataFrame(signal_rows(1500, seed=1)).cache()


def fitted(train, spec: DerivedSpec) -> PipelineModel:
    derived = plan_derived(train, ROLES, spec, seed=3)
    stages = preprocessing_stages(ROLES, FeatureSpec(derived=spec), "regression", None, derived)
    return Pipeline(stages=[*stages, LinearRegression(featuresCol=FEATURES, labelCol=LABEL)]).fit(train)


def holdout_rmse(spark, model: PipelineModel) -> float:
    test = signal_rows(1000, seed=2)
    predicted = model.transform(spark.createDataFrame(test)).select("prediction").toPandas()["prediction"]
    return float(np.sqrt(np.mean((predicted.to_numpy() - test[LABEL].to_numpy()) ** 2)))


def test_a_ratio_and_a_skewed_column_are_learned_far_better_with_derived_features(spark, train):
    plan = plan_derived(train, ROLES, ON, seed=3)
    # Only x is skewed and non-negative: a and b are uniform, z has negatives.
    assert [d.name for d in plan] == ["a_per_b", "log1p_x"]
    off, on = holdout_rmse(spark, fitted(train, OFF)), holdout_rmse(spark, fitted(train, ON))
    # Noise alone is 0.3; the linear model on raw columns misses the curvature.
    assert on < 0.4 and on < off / 3, (on, off)
    assert feature_slot_names(fitted(train, ON), ROLES) == ["a", "b", "x", "z", "a_per_b", "log1p_x"]


def test_the_saved_pipeline_derives_the_features_from_raw_text_rows(spark, train, tmp_path):
    fitted(train, ON).write().save(str(tmp_path / "model"))
    model = PipelineModel.load(str(tmp_path / "model"))
    raw = pd.DataFrame({"a": ["6", "3", "2"], "b": ["3", "0", "5"], "x": [str(np.e - 1), "", "-7"], "z": ["0", "1", "-1"]})
    scored = model.transform(spark.createDataFrame(raw)).select("`num__a_per_b`", "`num__log1p_x`", "prediction").collect()
    assert scored[0]["num__a_per_b"] == pytest.approx(2.0) and scored[0]["num__log1p_x"] == pytest.approx(1.0)
    # A zero denominator and a blank number are null before imputation, and the row is still scored.
    assert scored[1]["num__a_per_b"] is None and scored[1]["num__log1p_x"] is None
    assert scored[2]["num__log1p_x"] == 0.0  # never negative in training: a negative counts as 0
    assert all(row.prediction is not None and np.isfinite(row.prediction) for row in scored)
    assert scored[0].prediction == pytest.approx(4 * 2.0 + 3 * 1.0, abs=0.5)


def test_geographic_clusters_are_found_and_similarity_is_one_at_a_centre(spark):
    rng = np.random.default_rng(4)
    centres = np.array([[34.0, -118.3], [37.8, -122.4], [32.7, -117.2]])
    points = np.concatenate([c + rng.normal(0, 0.05, size=(200, 2)) for c in centres])
    frame = spark.createDataFrame(pd.DataFrame({"latitude": points[:, 0], "longitude": points[:, 1]}))
    roles = ColumnRoles(numeric=("latitude", "longitude"), categorical=())
    plan = plan_derived(frame, roles, DerivedSpec(geo=GeoSpec(clusters=3)), seed=1)
    assert [d.name for d in plan] == ["geo_similarity_0", "geo_similarity_1", "geo_similarity_2"]
    stages = preprocessing_stages(roles, FeatureSpec(), "regression", None, plan)[:2]
    at_centre = spark.createDataFrame(pd.DataFrame({"latitude": ["37.8"], "longitude": ["-122.4"]}))
    row = Pipeline(stages=stages).fit(at_centre).transform(at_centre).first()
    similarities = sorted(row[f"num__{d.name}"] for d in plan)
    assert similarities[-1] == pytest.approx(1.0, abs=0.01)
    # The other two centres are over 3 degrees away: exp(-(3 ** 2)) is about 1e-4.
    assert similarities[1] < 1e-3


def test_columns_that_are_not_numeric_features_or_clashing_names_are_rejected(train):
    with pytest.raises(ValueError, match=r"\['c'\], which are not numeric"):
        plan_derived(train, ROLES, DerivedSpec(ratios={"a_per_c": ("a", "c")}), seed=1)
    with pytest.raises(ValueError, match=r"\['z'\] name more than one feature"):
        plan_derived(train, ROLES, DerivedSpec(ratios={"z": ("a", "b")}), seed=1)
