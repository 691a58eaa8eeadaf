"""Per-prediction contributions: they add up to each row's margin, a linear model's match coefficient x
standardised value computed here from the training rows, models that cannot be explained say why, and
the report carries the best model's test-row contributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyspark.ml.functions import vector_to_array

from lakeforge.config import load_config
from lakeforge.training.columns import LABEL, ColumnRoles
from lakeforge.training.config import FeatureSpec, ModelSpec, PcaSpec, TrainingConfig, ValidationSpec
from lakeforge.training.crossval import candidate_pipeline
from lakeforge.training.explain import BIAS, contributions, explainable, mean_absolute
from lakeforge.training.features import preprocessing_stages
from lakeforge.training.report import write_report
from lakeforge.training.train import train_models

ROLES = ColumnRoles(numeric=("size", "age"), categorical=("plan",))
COLUMNS = ["size", "age", "plan"]


@pytest.fixture(scope="module")
def rows(spark):
    rng = np.random.default_rng(12)
    n = 600
    frame = pd.DataFrame({"size": rng.normal(50, 10, n), "age": rng.uniform(0, 30, n), "plan": rng.choice(["a", "b", "c"], n)})
    frame["value"] = 3 * frame["size"] - 2 * frame["age"] + frame["plan"].map({"a": 0, "b": 20, "c": -10}) + rng.normal(0, 5, n)
    frame["churned"] = (frame["value"] > frame["value"].median()).astype(float)
    return frame, spark.createDataFrame(frame).cache()


def fitted(rows, kind: str, task: str, params: dict | None = None, features: FeatureSpec | None = None):
    pdf, frame = rows
    label = "churned" if task == "classification" else "value"
    train = frame.withColumnRenamed(label, LABEL)
    spec = ModelSpec(kind=kind, params=params or {})
    stages = preprocessing_stages(ROLES, features or FeatureSpec(), task, 2 if features and features.pca else None)
    pipeline, _ = candidate_pipeline(stages, kind, spec, task, ValidationSpec(class_weights=False))
    return pipeline.fit(train), train


def test_linear_contributions_are_coefficient_times_standardised_value(rows):
    model, train = fitted(rows, "linear_regression", "regression")
    pdf = rows[0]
    explained = contributions(model, train)
    assert list(explained.columns) == [*COLUMNS, BIAS]
    coefficients = model.stages[-1].coefficients.toArray()
    for slot, column in enumerate(["size", "age"]):
        standardised = (pdf[column] - pdf[column].mean()) / pdf[column].std(ddof=1)
        assert np.allclose(explained[column], coefficients[slot] * standardised.to_numpy())
    predictions = model.transform(train).select("prediction").toPandas()["prediction"]
    assert np.allclose(explained.sum(axis=1), predictions)
    # Size moves values most (3 per unit, sd 10), then age (2 per unit, sd 8.7); plan least.
    assert [name for name, _ in mean_absolute(explained)][:2] == ["size", "age"]


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_xgboost_contributions_add_up_to_the_margin(rows, task):
    model, train = fitted(rows, "xgboost", task, {"n_estimators": 30, "max_depth": 3})
    explained = contributions(model, train)
    assert list(explained.columns) == [*COLUMNS, BIAS]
    scored = model.transform(train)
    if task == "classification":
        margin = scored.select(vector_to_array("rawPrediction")[1].alias("m")).toPandas()["m"]
    else:
        margin = scored.select("prediction").toPandas()["prediction"]
    assert np.allclose(explained.sum(axis=1), margin, atol=1e-4)
    assert [name for name, _ in mean_absolute(explained)][0] == "size"


def test_models_that_cannot_be_explained_say_why(rows):
    forest, train = fitted(rows, "random_forest", "regression", {"numTrees": 3})
    assert "RandomForestRegressionModel" in explainable(forest)
    with pytest.raises(ValueError, match="no per-prediction contributions"):
        contributions(forest, train)
    reduced, _ = fitted(rows, "linear_regression", "regression", features=FeatureSpec(pca=PcaSpec(explained_variance=0.9)))
    assert "PCA" in explainable(reduced)
    unscaled, _ = fitted(rows, "linear_regression", "regression", features=FeatureSpec(scaler="none"))
    assert "standard scaler" in explainable(unscaled)


def test_the_report_explains_the_best_linear_models_test_rows(spark, training_conf, tmp_path):
    config = load_config(training_conf / "churn.yml", TrainingConfig, env="test")
    config = config.model_copy(update={
        "features": config.features.model_copy(update={"selection": None}),
        "models": {"logistic_regression": ModelSpec(kind="logistic_regression", params={"maxIter": 20})},
    })
    result = train_models(spark, config)
    try:
        report = write_report(result, tmp_path).read_text()
    finally:
        result.data.train.unpersist()
        result.data.test.unpersist()
    explained = pd.read_csv(tmp_path / "contributions.csv")
    roles = result.data.roles
    expected = [*roles.numeric, *(derived.name for derived in result.data.derived), *roles.categorical, BIAS]
    assert len(explained) == result.test_rows and list(explained.columns) == expected
    assert "`contributions.csv`" in report and "![shap_importance.png](shap_importance.png)" in report
