"""Training fixtures: look-alike CSVs, and a conf/ folder whose `test` overlay sends MLflow (sqlite and
artifacts) and the lakehouse to this session's temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers import write_test_overlay

from lakeforge.training.sample_data import housing_frame, telco_frame, write_csv


CHURN = {
    "name": "churn_test",
    "task": "classification",
    "data": {"label": "Churn"},
    "features": {"selection": {"mode": "percentile", "threshold": 0.9}},
    "validation": {"folds": 3, "seed": 11, "parallelism": 2, "class_weights": True},
    "models": {
        "logistic_regression": {"kind": "logistic_regression", "params": {"maxIter": 20}, "grid": {"regParam": [0.01, 0.1]}},
        "random_forest": {"kind": "random_forest", "params": {"numTrees": 20, "maxDepth": 5}},
        "gbt": {"kind": "gbt", "params": {"maxIter": 8, "maxDepth": 3}},
        "xgboost": {"kind": "xgboost", "params": {"n_estimators": 40, "max_depth": 3, "learning_rate": 0.1}},
    },
    "tracking": {"experiment": "churn-test", "registered_model": "churn_test"},
}

HOUSING = {
    "name": "housing_test",
    "task": "regression",
    "data": {"label": "median_house_value"},
    "features": {"pca": {"explained_variance": 0.99}},
    "validation": {"folds": 3, "seed": 11, "parallelism": 2},
    "models": {
        "ols": {"kind": "linear_regression"},
        "ridge": {"kind": "linear_regression", "params": {"elasticNetParam": 0.0}, "grid": {"regParam": [1.0, 100.0]}},
        "gbt": {"kind": "gbt", "params": {"maxIter": 12, "maxDepth": 4}},
        "xgboost": {"kind": "xgboost", "params": {"n_estimators": 60, "max_depth": 4, "learning_rate": 0.1}},
    },
    "tracking": {"experiment": "housing-test", "registered_model": "housing_test"},
}


@pytest.fixture(scope="session")
def training_conf(tmp_path_factory, spark) -> Path:
    """conf/{churn,housing}.yml on generated data plus conf/env/test.yml. The spark fixture starts first,
    so build_spark() in the code under test returns that session (no jars_dir needed)."""
    root = tmp_path_factory.mktemp("training")
    telco = write_csv(telco_frame(rows=700, seed=3), root / "data/telco.csv")
    housing = write_csv(housing_frame(rows=1000, seed=3), root / "data/housing.csv")
    conf = root / "conf"
    write_test_overlay(conf, root)
    (conf / "churn.yml").write_text(yaml.safe_dump({**CHURN, "data": {**CHURN["data"], "path": str(telco)}}, sort_keys=False))
    (conf / "housing.yml").write_text(yaml.safe_dump({**HOUSING, "data": {**HOUSING["data"], "path": str(housing)}}, sort_keys=False))
    return conf
