"""Nothing from the test split reaches tuning: every fit (cross-validation and refit), the derived
features' planning and the PCA size see training rows only, and all of them."""

from __future__ import annotations

import pytest

import lakeforge.training.train as train_module
from lakeforge.config import load_config
from lakeforge.training.config import ModelSpec, TrainingConfig
from lakeforge.training.pipeline import PersistingPipeline
from lakeforge.training.train import train_models

# Continuous columns of the housing look-alike: together they name a row.
ROW = ["longitude", "latitude", "median_income"]


def row_keys(frame) -> set[tuple]:
    return {tuple(row) for row in frame.select(*ROW).collect()}


def test_tuning_sees_training_rows_only(spark, training_conf, monkeypatch):
    config = load_config(training_conf / "housing.yml", TrainingConfig, env="test")
    config = config.model_copy(update={"models": {
        "ridge": ModelSpec(kind="linear_regression", params={"elasticNetParam": 0.0}, grid={"regParam": [1.0, 100.0]}),
        "xgboost": ModelSpec(kind="xgboost", params={"n_estimators": 20, "max_depth": 3}),
    }})
    seen: dict[str, list[set[tuple]]] = {"fit": [], "derived": [], "pca": []}

    def spying(name: str, original):
        def spy(*args, **kwargs):
            frame = args[1] if name == "fit" else args[0]
            seen[name].append(row_keys(frame))
            return original(*args, **kwargs)
        return spy

    monkeypatch.setattr(PersistingPipeline, "_fit", spying("fit", PersistingPipeline._fit))
    monkeypatch.setattr(train_module, "plan_derived", spying("derived", train_module.plan_derived))
    monkeypatch.setattr(train_module, "choose_pca_k", spying("pca", train_module.choose_pca_k))
    result = train_models(spark, config)
    try:
        train, test = row_keys(result.data.train), row_keys(result.data.test)
        assert len(test) == result.test_rows and len(train) == result.train_rows and not train & test
        # 3 folds x (2 + 1) param maps, and a refit per model.
        assert len(seen["fit"]) == 3 * 3 + 2 and len(seen["derived"]) == 1 and len(seen["pca"]) == 1
        for rows in [*seen["fit"], *seen["derived"], *seen["pca"]]:
            assert not rows & test
        assert set().union(*seen["fit"]) == train == seen["derived"][0] == seen["pca"][0]
        refits = [rows for rows in seen["fit"] if rows == train]
        assert len(refits) == 2
    finally:
        result.data.train.unpersist()
        result.data.test.unpersist()


@pytest.fixture(autouse=True)
def _keys_are_unique(spark, training_conf):
    """The row key must name one row, or overlaps could hide."""
    config = load_config(training_conf / "housing.yml", TrainingConfig, env="test")
    frame = spark.read.options(header="true").csv(config.data.path)
    assert frame.select(*ROW).distinct().count() == frame.count()
