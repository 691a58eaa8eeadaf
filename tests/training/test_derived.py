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
    assert feature_slot_names(fitted(train, ON)) == ["a", "b", "x", "z", "a_per_b", "log1p_x"]


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


def bump_rows(rows: int, seed: int) -> pd.DataFrame:
    """The label is 2 a b + 3 when 20 <= t < 40 + noise: a product and a step linear models cannot form."""
    rng = np.random.default_rng(seed)
    # t evenly spread: its training tertiles are 20 and 40, where the step is.
    a, b, t = rng.uniform(0, 3, rows), rng.uniform(0, 3, rows), rng.permutation(np.linspace(0, 60, rows, endpoint=False))
    label = 2 * a * b + 3 * ((t >= 20) & (t < 40)) + rng.normal(0, 0.3, rows)
    return pd.DataFrame({"a": a, "b": b, "t": t, LABEL: label})


BUMP_ROLES = ColumnRoles(numeric=("a", "b", "t"), categorical=())
BUMP_OFF = DerivedSpec(log1p=[], geo=GeoSpec(clusters=0))
BUMP_ON = DerivedSpec(log1p=[], geo=GeoSpec(clusters=0), interactions={"a_times_b": ("a", "b")}, buckets={"t": 3})


def bump_model(frame, spec: DerivedSpec) -> PipelineModel:
    derived = plan_derived(frame, BUMP_ROLES, spec, seed=3)
    stages = preprocessing_stages(BUMP_ROLES, FeatureSpec(derived=spec), "regression", None, derived)
    return Pipeline(stages=[*stages, LinearRegression(featuresCol=FEATURES, labelCol=LABEL)]).fit(frame)


def test_a_product_and_a_bucketed_step_are_learned_far_better_with_interactions_and_buckets(spark):
    frame = spark.createDataFrame(bump_rows(1500, seed=5)).cache()
    test = bump_rows(1000, seed=6)

    def rmse(model: PipelineModel) -> float:
        predicted = model.transform(spark.createDataFrame(test)).select("prediction").toPandas()["prediction"]
        return float(np.sqrt(np.mean((predicted.to_numpy() - test[LABEL].to_numpy()) ** 2)))

    on_model = bump_model(frame, BUMP_ON)
    off, on = rmse(bump_model(frame, BUMP_OFF)), rmse(on_model)
    # Noise alone is 0.3; three buckets of equal counts split t at 20 and 40.
    assert on < 0.45 and on < off / 3, (on, off)
    slots = feature_slot_names(on_model)
    assert slots[:4] == ["a", "b", "t", "a_times_b"]
    # percentile_approx picks training values: the 500th and 1,000th of t's 1,500 (spaced 0.04).
    assert sorted(slots[4:]) == sorted(f"t_bucket={label}" for label in ("< 19.96", "[19.96, 39.96)", ">= 39.96")), slots


def test_bucket_edges_are_the_training_quantiles_or_the_listed_edges_and_nulls_stay_unencoded(spark):
    values = np.random.default_rng(7).exponential(10, 2000)
    frame = spark.createDataFrame(pd.DataFrame({"a": values, "b": values[::-1].copy(), "t": np.arange(2000.0)}))
    spec = DerivedSpec(log1p=[], geo=GeoSpec(clusters=0), buckets={"a": 4, "t": [500.0, 100.0]})
    plan = plan_derived(frame, BUMP_ROLES, spec, seed=1)
    assert [(d.name, d.categorical) for d in plan] == [("a_bucket", True), ("t_bucket", True)]
    model = Pipeline(stages=preprocessing_stages(BUMP_ROLES, FeatureSpec(derived=spec), "regression", None, plan)).fit(frame)
    # Four buckets of equal training counts: each holds a quarter of the rows, split at numpy's quartiles.
    shares = model.transform(frame).groupBy("`cat__a_bucket`").count().toPandas().set_index("cat__a_bucket")["count"]
    assert len(shares) == 4 and all(abs(count - 500) <= 20 for count in shares), shares
    low, high = np.quantile(values, [0.125, 0.875])
    rows = pd.DataFrame({"a": [str(low), str(high), ""], "b": ["1", "1", "1"], "t": ["99", "100", "7000"]})
    got = model.transform(spark.createDataFrame(rows)).select("`cat__a_bucket`", "`cat__t_bucket`", "`ohe__a_bucket`").collect()
    assert got[0]["cat__a_bucket"].startswith("< ") and got[1]["cat__a_bucket"].startswith(">= ")
    edge = float(got[0]["cat__a_bucket"].removeprefix("< "))
    assert edge == pytest.approx(np.quantile(values, 0.25), rel=0.02)
    # Listed edges are sorted; an edge value belongs to the bucket above it.
    assert [row["cat__t_bucket"] for row in got] == ["< 100", "[100, 500)", ">= 500"]
    # A blank number is no bucket: every one-hot slot of the column is zero.
    assert got[2]["cat__a_bucket"] is None and got[2]["ohe__a_bucket"].numNonzeros() == 0


def test_a_column_with_a_single_value_cannot_be_bucketed(spark):
    frame = spark.createDataFrame(pd.DataFrame({"a": [1.0] * 50, "b": np.arange(50.0), "t": np.arange(50.0)}))
    with pytest.raises(ValueError, match=r"'a' has a single value"):
        plan_derived(frame, BUMP_ROLES, DerivedSpec(log1p=[], geo=GeoSpec(clusters=0), buckets={"a": 3}), seed=1)
