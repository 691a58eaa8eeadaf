"""Measure registered model versions on one evaluation set: the same rows for challenger and champion."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
from mlflow.models import Model
from pyspark.ml import PipelineModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from lakeforge.deployment.config import EvaluationSpec
from lakeforge.deployment.validation import DataProfile, ModelEvaluation
from lakeforge.training.columns import LABEL, check_label, cleaned_text, with_label
from lakeforge.training.data import read_data
from lakeforge.training.decision import decision_threshold
from lakeforge.training.metrics import classification_metrics
from lakeforge.training.stratified import split_train_test

SCORE = "__score"


@dataclass(frozen=True)
class LoadedModel:
    """A model version's artifacts on local disk and the Spark pipeline they hold."""

    version: str
    path: Path
    schema: StructType  # the logged signature's inputs
    pipeline: PipelineModel

    @property
    def inputs(self) -> list[str]:
        return self.schema.fieldNames()

    @property
    def size_mb(self) -> float:
        return folder_mb(self.path)


def folder_mb(path: Path) -> float:
    """Size of a model's artifact files, in MiB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def load_version(model_name: str, version: str, folder: Path) -> LoadedModel:
    """Download `models:/name/version` under folder and load it (Spark flavour: the churn pipeline's)."""
    path = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{model_name}/{version}", dst_path=str(folder / version)))
    return load_model_folder(version, path)


def load_model_folder(version: str, path: Path) -> LoadedModel:
    signature = Model.load(str(path)).signature
    if signature is None:
        raise ValueError(f"model version {version} at {path} was logged without a signature; its inputs are unknown")
    return LoadedModel(version=version, path=path, schema=signature.inputs.as_spark_schema(), pipeline=mlflow.spark.load_model(str(path)))


def evaluation_frame(spark: SparkSession, spec: EvaluationSpec, lakehouse_root: str, inputs: list[str]) -> DataFrame:
    """The model inputs present in the data plus the 0/1 label, restricted to training's held-out rows.

    The split hashes the selected columns, so selecting the model's inputs in training's order gives
    back exactly the rows training held out."""
    frame, _ = read_data(spark, spec.data, lakehouse_root)
    check_label(frame, spec.data, "classification")
    present = [f"`{column}`" for column in inputs if column in frame.columns]
    labelled = frame.transform(with_label(spec.data, "classification")).select(*present, LABEL)
    if spec.holdout is not None:
        labelled = split_train_test(labelled, spec.holdout.test_fraction, spec.holdout.seed, stratified=True)[1]
    return labelled


def profile_data(frame: DataFrame, inputs: list[str]) -> DataProfile:
    """Rows, per-input null share (blank text counts as null) and class shares, in one pass."""
    present = [column for column in inputs if column in frame.columns]
    row = frame.agg(
        F.count("*").alias("rows"),
        *[F.sum(cleaned_text(column).isNull().cast("long")).alias(f"null_{i}") for i, column in enumerate(present)],
    ).first()
    rows = int(row["rows"])
    classes = {float(r[LABEL]): r["count"] / rows for r in frame.groupBy(LABEL).count().collect()} if rows else {}
    return DataProfile(
        rows=rows,
        null_fractions={column: (row[f"null_{i}"] or 0) / rows if rows else 0.0 for i, column in enumerate(present)},
        class_fractions=classes,
        missing_columns=tuple(column for column in inputs if column not in frame.columns),
    )


def measure(model: LoadedModel, frame: DataFrame) -> ModelEvaluation:
    """Metrics with training's definitions, at the model's own decision threshold; seconds to score the set."""
    started = time.perf_counter()
    scored = model.pipeline.transform(frame).select(LABEL, vector_to_array("probability")[1].alias(SCORE)).toPandas()
    seconds = time.perf_counter() - started
    label, score = scored[LABEL].to_numpy(dtype=float), scored[SCORE].to_numpy(dtype=float)
    metrics = classification_metrics(label, score, decision_threshold(model.pipeline)) if len(label) else {}
    return ModelEvaluation(version=model.version, metrics={k: float(np.round(v, 6)) for k, v in metrics.items()},
                           size_mb=model.size_mb, scoring_seconds=seconds)


@dataclass(frozen=True)
class Evaluation:
    challenger: ModelEvaluation
    champion: ModelEvaluation | None
    profile: DataProfile


def evaluate(spark: SparkSession, spec: EvaluationSpec, lakehouse_root: str, model_name: str, challenger: str, champion: str | None) -> Evaluation:
    """Both versions over the same cached rows; the data checks look at the challenger's inputs."""
    with tempfile.TemporaryDirectory() as folder:
        new = load_version(model_name, challenger, Path(folder))
        old = load_version(model_name, champion, Path(folder)) if champion else None
        inputs = new.inputs + [column for column in (old.inputs if old else []) if column not in new.inputs]
        frame = evaluation_frame(spark, spec, lakehouse_root, inputs).cache()
        try:
            profile = profile_data(frame, new.inputs)
            if set(inputs) - set(frame.columns) or profile.rows == 0:  # nothing to score: the data checks say why
                return Evaluation(ModelEvaluation(challenger, {}, new.size_mb, 0.0), None, profile)
            return Evaluation(measure(new, frame), measure(old, frame) if old else None, profile)
        finally:
            frame.unpersist()
