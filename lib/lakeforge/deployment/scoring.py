"""Batch scoring over the configured data with the champion (`models:/NAME@champion`) or with the S3
archive a deployment put in LAKEFORGE_MODEL_URI (the scheduled ECS task of the aws target): predictions
appended to a gold Delta table with the version that made them, and to the inference log that
monitoring reads."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import mlflow
from pyspark.ml import PipelineModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.archives import fetch_model_url
from lakeforge.deployment.config import DeploymentConfig
from lakeforge.deployment.evaluation import load_model_folder
from lakeforge.deployment.registry import CHAMPION, ModelRegistry
from lakeforge.deployment.targets.local import champion_uri
from lakeforge.errors import DataError, LakeforgeError
from lakeforge.tables import delta
from lakeforge.tables.inference import append_inferences, inputs_map
from lakeforge.tables.layout import Lakehouse
from lakeforge.tracking import use_tracking_uri
from lakeforge.training.data import read_data


@dataclass(frozen=True)
class ScoringResult:
    model_version: str
    rows: int
    table: str
    inference_log: str | None  # where the same predictions were logged for monitoring


def scored_rows(pipeline: PipelineModel, inputs: list[str], key: str, task: str = "classification"):
    """Transform: rows to score -> the key, the inputs, the prediction and its score (classification:
    the positive class's probability; regression: the predicted value), one row per input row."""

    def transform(frame: DataFrame) -> DataFrame:
        columns = list(dict.fromkeys([key, *inputs]))  # the key may also be an input
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"rows to score lack columns {missing}; the model needs {inputs} and the key {key!r}")
        scored = pipeline.transform(frame.select(*[F.col(f"`{c}`") for c in columns]))
        score = vector_to_array("probability")[1] if task == "classification" else F.col("prediction")
        return scored.select(*[F.col(f"`{c}`") for c in columns], F.col("prediction").cast("double").alias("prediction"),
                             score.cast("double").alias("score"))

    return transform


def inference_log_rows(model_name: str, version: str, key: str, inputs: list[str], scored_at: datetime | None = None):
    """Transform: scored rows -> inference log rows. Batch rows carry no per-request latency and no
    ranked outputs (null)."""

    def transform(scored: DataFrame) -> DataFrame:
        return scored.select(
            F.expr("uuid()").alias("request_id"), at_or_now(scored_at).alias("scored_at"),
            F.lit(model_name).alias("model_name"), F.lit(version).alias("model_version"),
            F.col(f"`{key}`").cast("string").alias("entity_id"), inputs_map(inputs).alias("inputs"),
            F.col("prediction"), F.col("score"), F.lit(None).cast("double").alias("latency_ms"),
            F.lit(None).cast("array<string>").alias("outputs"),
        )

    return transform


def at_or_now(at: datetime | None) -> Column:
    """A fixed time as a timestamp column, or the time of the query."""
    return F.lit(at).cast("timestamp") if at else F.current_timestamp()


def fetch_scoring_model(registered_model: str, model_uri: str | None, folder: Path) -> tuple[str, Path]:
    """(version, model folder): the S3 archive `model_uri` (checked against its recorded SHA-256), else
    the registry's champion."""
    if model_uri:
        fetched = fetch_model_url(model_uri, folder)
        if fetched.name not in (None, registered_model):
            raise LakeforgeError(f"{model_uri} holds {fetched.name} version {fetched.version}, not {registered_model}")
        return fetched.version or model_uri, fetched.folder
    version = ModelRegistry(registered_model).version_of(CHAMPION)
    if version is None:
        raise LakeforgeError(f"{champion_uri(registered_model)} does not exist: deploy a model first (lakeforge deploy run)")
    return version, Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{registered_model}/{version}", dst_path=str(folder)))


def score_batch(spark: SparkSession, config: DeploymentConfig, model: str, model_uri: str | None = None) -> ScoringResult:
    spec = config.model(model)
    if spec.scoring is None:
        raise LakeforgeError(f"model {model!r} has no scoring section in the deployment config (data, output_table, key)")
    use_tracking_uri(config.platform)
    lake = Lakehouse(config.platform.storage.root)
    table, log = lake.gold(spec.scoring.output_table), lake.system(spec.scoring.inference_log) if spec.scoring.inference_log else None
    frame, _ = read_data(spark, spec.scoring.data, config.platform.storage.root)
    key, scored_at = spec.scoring.key, datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as folder:
        version, path = fetch_scoring_model(spec.registered_model, model_uri, Path(folder))
        loaded = load_model_folder(version, path)
        scored = frame.transform(scored_rows(loaded.pipeline, loaded.inputs, key, spec.task)).persist()  # scored once, written twice
        try:
            delta.append(scored.select(F.col(f"`{key}`"), F.col("score").alias("probability"), F.col("prediction"),
                                       F.lit(version).alias("model_version"), at_or_now(scored_at).alias("scored_at")), table)
            if log:
                append_inferences(scored.transform(inference_log_rows(spec.registered_model, version, key, loaded.inputs, scored_at)), log)
        finally:
            scored.unpersist()
    rows = int(delta.last_operation_metrics(spark, table).get("numOutputRows", 0))
    return ScoringResult(model_version=version, rows=rows, table=table, inference_log=log)
