"""Candidate estimators by kind, and their hyper-parameter grids from config."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pyspark.ml import Estimator
from pyspark.ml.classification import GBTClassifier, LogisticRegression, RandomForestClassifier
from pyspark.ml.param import Param
from pyspark.ml.regression import GBTRegressor, LinearRegression, RandomForestRegressor
from pyspark.ml.tuning import ParamGridBuilder
from xgboost.spark import SparkXGBClassifier, SparkXGBRegressor

from lakeforge.training.columns import LABEL
from lakeforge.training.config import ModelSpec
from lakeforge.training.features import FEATURES
from lakeforge.training.stratified import WEIGHT


def xgboost(kind: type) -> Callable[..., Estimator]:
    """xgboost.spark's estimator under Spark ML's column names; its own fit log stays quiet.

    Each fit gathers its rows into one Spark task per worker (num_workers, 1 by default) and grows the
    trees natively there: on tables of thousands to millions of rows that is a few seconds where Spark
    ML's GBT runs several Spark jobs per tree (a 60-tree housing fit: about 10 s, nearly all of it
    per-job overhead). verbose False: no line per tree on stderr.
    """
    def build(featuresCol: str, labelCol: str) -> Estimator:
        logging.getLogger("XGBoost-PySpark").setLevel(logging.WARNING)
        return kind(features_col=featuresCol, label_col=labelCol, verbose=False)
    return build


ESTIMATORS: dict[tuple[str, str], Callable[..., Estimator]] = {
    ("classification", "logistic_regression"): LogisticRegression,
    ("classification", "random_forest"): RandomForestClassifier,
    ("classification", "gbt"): GBTClassifier,
    ("classification", "xgboost"): xgboost(SparkXGBClassifier),
    ("regression", "linear_regression"): LinearRegression,
    ("regression", "random_forest"): RandomForestRegressor,
    ("regression", "gbt"): GBTRegressor,
    ("regression", "xgboost"): xgboost(SparkXGBRegressor),
}
# The seed's name per library.
SEED_PARAMS = ("seed", "random_state")


def model_param(estimator: Estimator, name: str, model: str) -> Param:
    if not estimator.hasParam(name):
        known = sorted(p.name for p in estimator.params)
        raise ValueError(f"model {model!r}: {type(estimator).__name__} has no parameter {name!r}; it has {known}")
    return estimator.getParam(name)


def build_estimator(name: str, spec: ModelSpec, task: str, weighted: bool, seed: int) -> Estimator:
    """The estimator with its fixed params; class weights go through weightCol when asked for."""
    estimator = ESTIMATORS[(task, spec.kind)](featuresCol=FEATURES, labelCol=LABEL)
    for name in SEED_PARAMS:
        if estimator.hasParam(name):
            estimator.set(estimator.getParam(name), seed)
    if weighted:
        estimator.set(estimator.getParam("weightCol"), WEIGHT)
    if spec.kind == "random_forest":
        # Each row's node kept between levels instead of found again by walking every tree: the same
        # forest, 30-40% sooner at depth 12 (housing, 50 trees: 9.5-10.2 s against 11.7-16.3 s a fit).
        estimator.set(estimator.getParam("cacheNodeIds"), True)
    for key, value in spec.params.items():
        estimator.set(model_param(estimator, key, name), value)
    return estimator


def param_grid(name: str, spec: ModelSpec, estimator: Estimator) -> list[dict[Param, Any]]:
    """Every combination of the configured values (one empty map when there is no grid)."""
    builder = ParamGridBuilder()
    for key, values in spec.grid.items():
        builder.addGrid(model_param(estimator, key, name), values)
    return builder.build()


def describe_params(params: dict[Param, Any]) -> dict[str, Any]:
    return {param.name: value for param, value in params.items()}
