"""Train every candidate model in a config: read, split, cross-validate, pick the best, test."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from pyspark.sql import DataFrame, SparkSession

from lakeforge.learning.class_balance import balanced_weights
from lakeforge.training.columns import LABEL, ColumnRoles, check_label, detect_roles, with_label
from lakeforge.training.config import TrainingConfig
from lakeforge.training.crossval import CandidateResult, cross_validate, evaluate_on_test
from lakeforge.training.data import DataIdentity, read_data
from lakeforge.training.derived import Derived, plan_derived
from lakeforge.training.features import choose_pca_k, preprocessing_stages
from lakeforge.training.metrics import baseline_metrics
from lakeforge.training.pipeline import SharedEncodings
from lakeforge.training.stratified import assign_folds, split_train_test, with_class_weights

PRIMARY_METRIC = {"classification": ("roc_auc", True), "regression": ("rmse", False)}


@dataclass
class PreparedData:
    train: DataFrame  # with __fold (and __weight when class weights are on), cached
    test: DataFrame  # cached
    roles: ColumnRoles
    identity: DataIdentity
    derived: tuple[Derived, ...] = ()
    pca_k: int | None = None
    pca_input_dimension: int | None = None


@dataclass
class TrainingResult:
    config: TrainingConfig
    data: PreparedData
    candidates: list[CandidateResult]
    best: CandidateResult
    baseline: dict[str, float]
    train_rows: int
    test_rows: int
    # Wall seconds per phase: prepare (read, roles, split, folds, derived features, PCA size) and
    # models (every candidate's cross-validation, refit and test scoring); tracking adds mlflow.
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def primary_metric(self) -> str:
        return PRIMARY_METRIC[self.config.task][0]


def prepare(spark: SparkSession, config: TrainingConfig) -> PreparedData:
    """Read, find the features, label, split train/test and assign folds (stratified for classification)."""
    frame, identity = read_data(spark, config.data, config.platform.storage.root)
    check_label(frame, config.data, config.task)
    roles = detect_roles(frame, config.data)
    validation = config.validation
    stratified = config.task == "classification"
    columns = [f"`{c}`" for c in roles.features]
    # Cached once: the split and the folds each rank these rows, and the source may be a slow read.
    labelled = frame.transform(with_label(config.data, config.task)).select(*columns, LABEL).cache()
    train, test = split_train_test(labelled, validation.test_fraction, validation.seed, stratified)
    if validation.class_weights:
        train = train.transform(with_class_weights(balanced_weights(train, LABEL)))
    train = assign_folds(train, validation.folds, validation.seed, stratified).cache()
    test = test.cache()
    # Both caches are filled from the labelled rows, which are then let go: kept, a notebook's session
    # would hold the data twice for as long as it runs.
    train.count(), test.count()
    labelled.unpersist()
    derived = plan_derived(train, roles, config.features.derived, validation.seed)
    prepared = PreparedData(train=train, test=test, roles=roles, identity=identity, derived=derived)
    if config.features.pca is not None:
        prepared.pca_k, prepared.pca_input_dimension = choose_pca_k(train, roles, config.features, derived)
    return prepared


def pick_best(candidates: list[CandidateResult], task: str) -> CandidateResult:
    """Chosen on cross-validation only: the test set stays an unbiased estimate for the winner."""
    metric, larger_is_better = PRIMARY_METRIC[task]
    sign = 1 if larger_is_better else -1
    return max(candidates, key=lambda c: sign * c.cv[metric]["mean"])


def train_models(spark: SparkSession, config: TrainingConfig) -> TrainingResult:
    started = time.perf_counter()
    data = prepare(spark, config)
    prepared = time.perf_counter()
    preprocessing = preprocessing_stages(data.roles, config.features, config.task, data.pca_k, data.derived)
    candidates, encodings = [], SharedEncodings()  # every model's fits share the k + 1 encodings
    try:
        for name, spec in config.models.items():
            candidate = cross_validate(data.train, preprocessing, name, spec, config.task, config.validation, encodings)
            evaluate_on_test(candidate, data.test, config.task)
            candidates.append(candidate)
    finally:
        encodings.release()
    best = pick_best(candidates, config.task)
    train_labels = np.array([row[0] for row in data.train.select(LABEL).collect()], dtype=float)
    return TrainingResult(
        config=config,
        data=data,
        candidates=candidates,
        best=best,
        baseline=baseline_metrics(config.task, train_labels, best.test_label),
        train_rows=len(train_labels),
        test_rows=len(best.test_label),
        seconds={"prepare": prepared - started, "models": time.perf_counter() - prepared},
    )
