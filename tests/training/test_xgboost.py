"""XGBoost candidates: the tuned decision threshold survives a save and load, early stopping stops,
importances name the slot that carries the signal, and a logged model pins xgboost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost
from pyspark.ml import PipelineModel
from pyspark.ml.functions import vector_to_array

from lakeforge.training.columns import LABEL, ColumnRoles
from lakeforge.training.config import FeatureSpec, ModelSpec, ValidationSpec
from lakeforge.training.crossval import candidate_pipeline, cross_validate
from lakeforge.training.decision import PositiveClassThreshold, decision_threshold, fitted_model
from lakeforge.training.features import preprocessing_stages
from lakeforge.training.importance import named_importance
from lakeforge.training.stratified import assign_folds
from lakeforge.training.tracking import pip_requirements

ROLES = ColumnRoles(numeric=("signal", "noise"), categorical=("plan",))


@pytest.fixture(scope="module")
def churn_like(spark):
    """1 in 5 positive, driven by `signal` (and a little by plan); `noise` carries nothing."""
    rng = np.random.default_rng(21)
    n = 1500
    signal, noise = rng.normal(size=n), rng.normal(size=n)
    plan = rng.choice(["basic", "plus"], size=n)
    logit = 2.0 * signal + 0.5 * (plan == "plus") - 2.0
    label = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(float)
    rows = pd.DataFrame({"signal": signal, "noise": noise, "plan": plan, LABEL: label})
    return assign_folds(spark.createDataFrame(rows), 3, seed=4, stratified=True).cache()


def test_tuned_threshold_decides_the_saved_models_predictions(churn_like, tmp_path):
    spec = ModelSpec(kind="xgboost", params={"n_estimators": 40, "max_depth": 3, "learning_rate": 0.1})
    validation = ValidationSpec(folds=3, parallelism=2, class_weights=False, threshold={"strategy": "max_f1"})
    stages = preprocessing_stages(ROLES, FeatureSpec(), "classification", None)
    result = cross_validate(churn_like, stages, "xgboost", spec, "classification", validation)
    # With 1 in 5 positive and no class weights, max-F1 cuts well below xgboost's own argmax at 0.5.
    assert result.threshold < 0.45
    result.model.write().overwrite().save(str(tmp_path / "model"))
    loaded = PipelineModel.load(str(tmp_path / "model"))
    assert isinstance(loaded.stages[-1], PositiveClassThreshold)
    assert decision_threshold(loaded) == pytest.approx(result.threshold)
    scored = loaded.transform(churn_like.drop(LABEL)).select(vector_to_array("probability")[1].alias("p"), "prediction").toPandas()
    assert ((scored["p"] >= result.threshold).astype(float) == scored["prediction"]).all()
    assert ((scored["p"] >= 0.5).astype(float) != scored["prediction"]).sum() > 20  # not the argmax rule


def test_importance_names_the_slot_that_carries_the_signal(churn_like):
    spec = ModelSpec(kind="xgboost", params={"n_estimators": 30, "max_depth": 2})
    pipeline, _ = candidate_pipeline(preprocessing_stages(ROLES, FeatureSpec(), "classification", None), "xgboost", spec,
                                     "classification", ValidationSpec(class_weights=False))
    ranked, signed = named_importance(pipeline.fit(churn_like))
    assert not signed and ranked[0][0] == "signal"
    assert {name for name, _ in ranked} == {"signal", "noise", "plan=basic", "plan=plus"}
    assert sum(value for _, value in ranked) == pytest.approx(1.0)
    assert dict(ranked)["signal"] > 3 * dict(ranked)["noise"]


def test_xgboost_stops_before_n_estimators_on_held_out_training_rows(spark):
    rng = np.random.default_rng(6)
    x = rng.uniform(-2, 2, size=(800, 2))
    label = np.sin(x[:, 0]) + 0.5 * x[:, 1] + rng.normal(0, 0.3, 800)
    rows = spark.createDataFrame(pd.DataFrame({"a": x[:, 0], "b": x[:, 1], LABEL: label}))
    stages = preprocessing_stages(ColumnRoles(numeric=("a", "b"), categorical=()), FeatureSpec(), "regression", None)

    def rounds(early_stopping: float | None) -> int:
        # A large step and deep trees overfit the noise within a few dozen rounds.
        spec = ModelSpec(kind="xgboost", params={"n_estimators": 300, "max_depth": 6, "learning_rate": 0.5}, early_stopping=early_stopping)
        model = candidate_pipeline(stages, "xgboost", spec, "regression", ValidationSpec())[0].fit(rows)
        assert model.transform(rows.drop(LABEL)).where("prediction IS NULL").count() == 0
        return fitted_model(model).get_booster().num_boosted_rounds()

    assert rounds(None) == 300
    assert rounds(0.2) < 100


def test_a_logged_pipeline_with_xgboost_pins_it(churn_like):
    stages = preprocessing_stages(ROLES, FeatureSpec(), "classification", None)
    boosted = candidate_pipeline(stages, "x", ModelSpec(kind="xgboost", params={"n_estimators": 5}), "classification", ValidationSpec())[0]
    linear = candidate_pipeline(stages, "lr", ModelSpec(kind="logistic_regression"), "classification", ValidationSpec())[0]
    assert f"xgboost-cpu=={xgboost.__version__}" in pip_requirements(boosted.fit(churn_like))
    assert not any(r.startswith("xgboost") for r in pip_requirements(linear.fit(churn_like)))
