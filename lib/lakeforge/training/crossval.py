"""Cross-validate one candidate model: grid search over folds, per-fold metrics, out-of-fold scores."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pyspark.ml import PipelineModel, Transformer
from pyspark.sql import DataFrame

from lakeforge.training.config import ModelSpec, ValidationSpec
from lakeforge.training.decision import set_decision_threshold
from lakeforge.training.early_stopping import EarlyStopping
from lakeforge.training.estimators import build_estimator, describe_params, param_grid
from lakeforge.training.metrics import classification_metrics, regression_metrics, summarize
from lakeforge.training.pipeline import PersistingPipeline, SharedEncodings
from lakeforge.training.sampling import TrainingFoldSampler
from lakeforge.training.stratified import FOLD
from lakeforge.training.thresholds import best_threshold
from lakeforge.training.validator import PooledCrossValidator, SelectionEvaluator, collect_scores, scored


@dataclass
class CandidateResult:
    name: str
    kind: str
    model: PipelineModel  # best params, refit on all training rows
    best_params: dict[str, Any]
    grid: list[dict[str, Any]]  # each param map with its CV mean and std of the selection metric
    folds: list[dict[str, float]]  # every metric, per fold, for the best params
    oof_label: np.ndarray
    oof_score: np.ndarray
    seconds: float
    threshold: float = 0.5
    test: dict[str, float] = field(default_factory=dict)
    test_label: np.ndarray | None = None
    test_score: np.ndarray | None = None

    @property
    def cv(self) -> dict[str, dict[str, float]]:
        return summarize(self.folds)


def metrics_for(task: str, label: np.ndarray, score: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    return classification_metrics(label, score, threshold) if task == "classification" else regression_metrics(label, score)


def candidate_pipeline(preprocessing: list[Transformer], name: str, spec: ModelSpec, task: str, validation: ValidationSpec,
                       encodings: SharedEncodings | None = None):
    """(Pipeline, grid): preprocessing + the estimator, wrapped in the training-fold sampler if asked."""
    estimator = build_estimator(name, spec, task, weighted=validation.class_weights, seed=validation.seed)
    grid = param_grid(name, spec, estimator)
    if spec.early_stopping is not None:
        estimator = EarlyStopping(estimator, spec.early_stopping, validation.seed)
    last = estimator if validation.sampling == "none" else TrainingFoldSampler(estimator, validation.sampling, validation.seed)
    pipeline = PersistingPipeline(stages=[*preprocessing, last])
    pipeline.encodings = encodings
    return pipeline, grid


def cross_validate(train: DataFrame, preprocessing: list[Transformer], name: str, spec: ModelSpec, task: str, validation: ValidationSpec,
                   encodings: SharedEncodings | None = None) -> CandidateResult:
    """Grid search on the pre-assigned __fold column; out-of-fold scores come from the fits' own scoring."""
    started = time.perf_counter()
    pipeline, grid = candidate_pipeline(preprocessing, name, spec, task, validation, encodings)
    validator = PooledCrossValidator(
        estimator=pipeline,
        estimatorParamMaps=grid,
        evaluator=SelectionEvaluator(task),
        numFolds=validation.folds,
        foldCol=FOLD,  # stratified (or shuffled) folds assigned up front, see stratified.assign_folds
        parallelism=validation.parallelism,
    )
    validator.halving = validation.halving
    cv_model = validator.fit(train)
    best = cv_model.best_index
    oof = [fold[best] for fold in cv_model.validation_scores]
    result = CandidateResult(
        name=name,
        kind=spec.kind,
        model=cv_model.bestModel,
        best_params=describe_params(grid[best]),
        grid=[
            {**describe_params(params), "mean": float(mean), "std": float(std), "folds": sum(fold[j] is not None for fold in cv_model.validation_scores)}
            for j, (params, mean, std) in enumerate(zip(grid, cv_model.avgMetrics, cv_model.stdMetrics))
        ],
        folds=[metrics_for(task, label, score) for label, score in oof],
        oof_label=np.concatenate([label for label, _ in oof]),
        oof_score=np.concatenate([score for _, score in oof]),
        seconds=0.0,
    )
    if task == "classification":
        result.threshold = best_threshold(result.oof_label, result.oof_score, validation.threshold)
        set_decision_threshold(result.model, result.threshold)
    result.seconds = time.perf_counter() - started
    return result


def evaluate_on_test(result: CandidateResult, test: DataFrame, task: str) -> None:
    result.test_label, result.test_score = collect_scores(scored(result.model.transform(test), task))
    result.test = metrics_for(task, result.test_label, result.test_score, result.threshold)
