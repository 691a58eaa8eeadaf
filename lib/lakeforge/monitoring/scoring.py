"""Batch scoring into the inference log, and delayed labels into the labels table."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.deployment.evaluation import load_version
from lakeforge.deployment.registry import ModelRegistry
from lakeforge.deployment.scoring import at_or_now, inference_log_rows, scored_rows
from lakeforge.errors import DataError, LakeforgeError
from lakeforge.monitoring.config import ModelRef
from lakeforge.tables.inference import append_inferences
from lakeforge.training.columns import LABEL, with_label
from lakeforge.training.config import DataSpec
from lakeforge.training.data import read_data


def inference_rows(pipeline: PipelineModel, inputs: list[str], model: ModelRef, version: str, scored_at: datetime | None = None):
    """Transform: rows to score -> inference log rows."""

    def transform(frame: DataFrame) -> DataFrame:
        scored = frame.transform(scored_rows(pipeline, inputs, model.entity_key, model.task))
        return scored.transform(inference_log_rows(model.registered_model, version, model.entity_key, inputs, scored_at))

    return transform


def version_to_score(model: ModelRef, version: str | None) -> str:
    if version is not None:
        return version
    found = ModelRegistry(model.registered_model).version_of(model.alias)
    if found is None:
        raise LakeforgeError(f"{model.registered_model} has no version with alias {model.alias!r}: train or deploy one, or pass --version")
    return found


def score_into_log(frame: DataFrame, model: ModelRef, version: str, log_path: str, scored_at: datetime | None = None) -> None:
    """Score `frame` with a registered version (downloaded to a temporary folder) into the inference log."""
    with tempfile.TemporaryDirectory() as folder:
        loaded = load_version(model.registered_model, version, Path(folder))
        append_inferences(frame.transform(inference_rows(loaded.pipeline, loaded.inputs, model, version, scored_at)), log_path)


def label_rows(frame: DataFrame, model: ModelRef, observed_at: datetime | None = None) -> DataFrame:
    """Labelled data -> labels table rows (entity_id, 0/1 or numeric label, observed_at); rows without a
    readable label are left out, as in training."""
    spec = DataSpec(label=model.label, positive_label=model.positive_label)
    if model.entity_key not in frame.columns:
        raise DataError(f"labelled data lacks the entity key {model.entity_key!r}; columns are {frame.columns}")
    labelled = frame.transform(with_label(spec, model.task))
    return labelled.select(
        F.col(f"`{model.entity_key}`").cast("string").alias("entity_id"), F.col(LABEL).alias("label"),
        at_or_now(observed_at).alias("observed_at"),
    )


def read_rows(spark: SparkSession, path: str, model: ModelRef, lakehouse_root: str) -> DataFrame:
    """Rows to score or labelled rows: a CSV, Parquet or Delta path, read as training reads its data."""
    return read_data(spark, DataSpec(path=path, label=model.label), lakehouse_root)[0]
