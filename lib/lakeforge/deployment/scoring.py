"""Batch scoring with the champion: `models:/NAME@champion` over the configured data, predictions
appended to a gold Delta table with the version that made them."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
from pyspark.ml import PipelineModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.deployment.config import DeploymentConfig
from lakeforge.deployment.evaluation import load_model_folder
from lakeforge.deployment.registry import CHAMPION, ModelRegistry
from lakeforge.deployment.targets.local import champion_uri
from lakeforge.errors import LakeforgeError
from lakeforge.tables import delta
from lakeforge.tables.layout import Lakehouse
from lakeforge.tracking import use_tracking_uri
from lakeforge.training.data import read_data


@dataclass(frozen=True)
class ScoringResult:
    model_version: str
    rows: int
    table: str


def predictions(pipeline: PipelineModel, inputs: list[str], key: str, version: str):
    """Transform: key, positive-class probability, prediction and the model version, one row per input row."""

    def transform(frame: DataFrame) -> DataFrame:
        scored = pipeline.transform(frame.select(F.col(f"`{key}`").alias("__key"), *[F.col(f"`{c}`") for c in inputs]))
        return scored.select(
            F.col("__key").alias(key),
            vector_to_array("probability")[1].alias("probability"),
            F.col("prediction"),
            F.lit(version).alias("model_version"),
            F.current_timestamp().alias("scored_at"),
        )

    return transform


def score_with_champion(spark: SparkSession, config: DeploymentConfig, model: str) -> ScoringResult:
    spec = config.model(model)
    if spec.scoring is None:
        raise LakeforgeError(f"model {model!r} has no scoring section in the deployment config (data, output_table, key)")
    use_tracking_uri(config.platform)
    version = ModelRegistry(spec.registered_model).version_of(CHAMPION)
    if version is None:
        raise LakeforgeError(f"{champion_uri(spec.registered_model)} does not exist: deploy a model first (lakeforge deploy run --model {model})")
    table = Lakehouse(config.platform.storage.root).gold(spec.scoring.output_table)
    frame, _ = read_data(spark, spec.scoring.data, config.platform.storage.root)
    with tempfile.TemporaryDirectory() as folder:
        loaded = load_model_folder(version, Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{spec.registered_model}/{version}", dst_path=folder)))
        missing = [column for column in [spec.scoring.key, *loaded.inputs] if column not in frame.columns]
        if missing:
            raise LakeforgeError(f"scoring data {spec.scoring.data.path or spec.scoring.data.gold_table} lacks columns {missing} that version {version} needs")
        delta.append(frame.transform(predictions(loaded.pipeline, loaded.inputs, spec.scoring.key, version)), table)
    rows = int(delta.last_operation_metrics(spark, table).get("numOutputRows", 0))
    return ScoringResult(model_version=version, rows=rows, table=table)
