"""MLflow: one run per training (a nested run per candidate), the report, the best model registered."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import mlflow
import numpy as np
import pandas as pd
import pyspark
from mlflow import MlflowClient
from mlflow.models import infer_signature

from lakeforge.training.crossval import CandidateResult
from lakeforge.training.report import write_report
from lakeforge.training.train import TrainingResult

INPUT_EXAMPLE_ROWS = 5


@dataclass(frozen=True)
class TrackedRun:
    run_id: str
    model_name: str
    model_version: str
    alias: str
    report_path: str

    @property
    def model_uri(self) -> str:
        return f"models:/{self.model_name}@{self.alias}"


def artifact_location(tracking_uri: str) -> str | None:
    """A local sqlite backend keeps artifacts beside its database; servers choose their own."""
    parsed = urlparse(tracking_uri)
    if parsed.scheme != "sqlite":
        return None
    return str(Path(parsed.path).resolve().parent / "mlartifacts")


def experiment_id(name: str, tracking_uri: str) -> str:
    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    return mlflow.create_experiment(name, artifact_location=artifact_location(tracking_uri))


def pip_requirements() -> list[str]:
    """Pinned explicitly: letting MLflow infer them starts a fresh interpreter (~15 s)."""
    return [f"pyspark=={pyspark.__version__}", f"mlflow=={mlflow.__version__}", f"pandas=={pd.__version__}", f"numpy=={np.__version__}"]


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
        pip_requirements=pip_requirements(),
    )
    version = str(info.registered_model_version)
    MlflowClient().set_registered_model_alias(tracking.registered_model, tracking.alias, version)
    return version


def log_training(result: TrainingResult) -> TrackedRun:
    config = result.config
    tracking_uri = config.platform.mlflow_tracking_uri or mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    with mlflow.start_run(experiment_id=experiment_id(config.tracking.experiment, tracking_uri), run_name=config.name) as run:
        validation, features = config.validation, config.features
        mlflow.log_params({
            **result.data.identity.as_params(),
            "task": config.task, "label": config.data.label, "folds": validation.folds, "seed": validation.seed,
            "test_fraction": validation.test_fraction, "class_weights": validation.class_weights,
            "sampling": validation.sampling, "threshold_strategy": validation.threshold.strategy,
            "scaler": features.scaler, "impute": features.impute,
            "pca_k": result.data.pca_k, "selection": features.selection.mode if features.selection else None,
            "numeric_features": ",".join(result.data.roles.numeric), "categorical_features": ",".join(result.data.roles.categorical),
            "train_rows": result.train_rows, "test_rows": result.test_rows, "best_model": result.best.name,
        })
        for candidate in result.candidates:
            log_candidate(candidate, config.task)
        mlflow.log_metrics({f"test_{k}": v for k, v in result.best.test.items()})
        mlflow.log_metrics({f"baseline_{k}": v for k, v in result.baseline.items()})
        with tempfile.TemporaryDirectory() as folder:
            write_report(result, Path(folder))
            mlflow.log_artifacts(folder, "report")
        version = log_best_model(result)
        report_uri = mlflow.get_artifact_uri("report/report.md")
    return TrackedRun(
        run_id=run.info.run_id,
        model_name=config.tracking.registered_model,
        model_version=version,
        alias=config.tracking.alias,
        report_path=report_uri.removeprefix("file://"),
    )
