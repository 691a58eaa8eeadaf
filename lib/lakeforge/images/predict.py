"""Batch inference: score a Delta image table with the saved model, one model load per worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DoubleType, StringType, StructField, StructType

from lakeforge.images.loader import image_transform, to_tensors
from lakeforge.images.model import load_checkpoint, save_checkpoint
from lakeforge.tables import delta

PREDICTION = StructType(
    [
        StructField("prediction", StringType()),
        StructField("probability", DoubleType()),
        StructField("probabilities", ArrayType(DoubleType())),
    ]
)


def checkpoint_from_registry(model_uri: str, path: str | Path) -> str:
    """The registered mlflow.pytorch model as a local checkpoint file the scoring UDF can load."""
    import mlflow

    metadata = mlflow.models.get_model_info(model_uri).metadata
    model = mlflow.pytorch.load_model(model_uri, map_location="cpu")
    return save_checkpoint(model, metadata["backbone"], list(metadata["classes"]), int(metadata["image_size"]), path)


def predict_column(checkpoint: str, batch_size: int):
    @F.pandas_udf(PREDICTION)
    def predict(batches: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
        torch.set_num_threads(1)  # one thread per Python worker: Spark already runs one per core
        model, classes, size = load_checkpoint(checkpoint)
        transform = image_transform(size, augment=None)
        for images in batches:
            rows = []
            for start in range(0, len(images), batch_size):
                chunk = images.iloc[start : start + batch_size]
                tensors = torch.stack(to_tensors(chunk, transform))
                with torch.no_grad():
                    probabilities = torch.softmax(model(tensors), dim=1).numpy().astype(np.float64)
                rows += [(classes[p.argmax()], float(p.max()), p.tolist()) for p in probabilities]
            yield pd.DataFrame(rows, columns=PREDICTION.fieldNames())

    return predict


def predict_images(images: DataFrame, checkpoint: str, batch_size: int = 64,
                   keep: tuple[str, ...] = ("path", "label", "split")) -> DataFrame:
    """The `keep` columns present in `images`, then prediction, probability, probabilities per row."""
    scored = images.withColumn("_p", predict_column(checkpoint, batch_size)("image"))
    return scored.select(*[c for c in keep if c in images.columns], "_p.*")


def write_predictions(spark: SparkSession, predictions: DataFrame, path: str, model_uri: str) -> int:
    """Upsert by image path, so re-scoring a table replaces its rows instead of adding copies."""
    rows = predictions.withColumn("model", F.lit(model_uri)).withColumn("_scored_at", F.current_timestamp())
    return delta.merge_upsert(spark, rows, path, keys=["path"], latest_by=None).source_rows
