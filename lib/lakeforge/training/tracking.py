"""MLflow: one run per training (a nested run per candidate), the report, the best model registered."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pyspark
import xgboost
from mlflow.models import infer_signature
from pyspark.ml import PipelineModel

from lakeforge.quality.profile import PROFILE_ARTIFACT, training_profile
from lakeforge.tracking import TrackedRun, log_report, set_alias, tracked_run
from lakeforge.training.crossval import CandidateResult
from lakeforge.training.report import write_report
from lakeforge.training.train import TrainingResult

INPUT_EXAMPLE_ROWS = 5


def pip_requirements(model: PipelineModel | None = None) -> list[str]:
    """Pinned explicitly: letting MLflow infer them starts a fresh interpreter (~15 s). A pipeline with
    an xgboost.spark stage also needs xgboost to load."""
    pinned = [f"pyspark=={pyspark.__version__}", f"mlflow=={mlflow.__version__}", f"pandas=={pd.__version__}", f"numpy=={np.__version__}"]
    if model is not None and any(type(stage).__module__.startswith("xgboost.") for stage in model.stages):
        pinned.append(f"xgboost-cpu=={xgboost.__version__}")
    return pinned


def log_candidate(candidate: CandidateResult, task: str) -> None:
    with mlflow.start_run(run_name=candidate.name, nested=True):
        mlflow.log_params({"kind": candidate.kind, **{f"best.{k}": v for k, v in candidate.best_params.items()}})
        if task == "classification":
            mlflow.log_param("threshold", round(candidate.threshold, 6))
        for metric, stats in candidate.cv.items():
            mlflow.log_metrics({f"cv_{metric}_mean": stats["mean"], f"cv_{metric}_std": stats["std"]})
        for fold, metrics in enumerate(candidate.folds):
            mlflow.log_metrics({f"fold_{metric}": value for metric, value in metrics.items()}, step=fold)
        mlflow.log_metrics({f"test_{metric}": value for metric, value in candidate.test.items()})
        mlflow.log_metric("seconds", candidate.seconds)


def log_best_model(result: TrainingResult) -> str:
    """Log and register the best pipeline with raw-row signature and example; returns the version."""
    tracking = result.config.tracking
    example = result.data.test.select(*[f"`{c}`" for c in result.data.roles.features]).limit(INPUT_EXAMPLE_ROWS)
    predictions = result.best.model.transform(example).select("prediction").toPandas()
    example_pdf = example.toPandas()
    info = mlflow.spark.log_model(
        result.best.model,
        "model",
        registered_model_name=tracking.registered_model,
        signature=infer_signature(example_pdf, predictions),
        input_example=example_pdf,
        pip_requirements=pip_requirements(result.best.model),
    )
    return set_alias(info, tracking.registered_model, tracking.alias)


def log_profile(result: TrainingResult) -> None:
    """The training data's per-feature profile beside the model: the baseline of drift monitoring."""
    roles, best = result.data.roles, result.best
    profile = training_profile(result.data.train, list(roles.numeric), list(roles.categorical), result.config.task,
                               best.test_score, best.threshold)
    mlflow.log_dict(profile.to_dict(), PROFILE_ARTIFACT)


def log_training(result: TrainingResult) -> TrackedRun:
    config = result.config
    with tracked_run(config.platform, config.tracking.experiment, config.name) as run:
        validation, features = config.validation, config.features
        mlflow.log_params({
            **result.data.identity.as_params(),
            "task": config.task, "label": config.data.label, "folds": validation.folds, "seed": validation.seed,
            "test_fraction": validation.test_fraction, "class_weights": validation.class_weights,
            "sampling": validation.sampling, "threshold_strategy": validation.threshold.strategy,
            "scaler": features.scaler, "impute": features.impute,
            "pca_k": result.data.pca_k, "selection": features.selection.mode if features.selection else None,
            "numeric_features": ",".join(result.data.roles.numeric), "categorical_features": ",".join(result.data.roles.categorical),
            "derived_features": ",".join(d.name for d in result.data.derived),
            "train_rows": result.train_rows, "test_rows": result.test_rows, "best_model": result.best.name,
        })
        for candidate in result.candidates:
            log_candidate(candidate, config.task)
        mlflow.log_metrics({f"test_{k}": v for k, v in result.best.test.items()})
        mlflow.log_metrics({f"baseline_{k}": v for k, v in result.baseline.items()})
        report_path = log_report(lambda folder: write_report(result, folder))
        log_profile(result)
        version = log_best_model(result)
    return TrackedRun(
        run_id=run.info.run_id,
        model_name=config.tracking.registered_model,
        model_version=version,
        alias=config.tracking.alias,
        report_path=report_path,
    )
