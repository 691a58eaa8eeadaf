"""The inference log and its late labels: Delta tables every scoring path (batch jobs, the serving API)
appends to, and monitoring reads.

One row per prediction. Inputs are kept as a string map (feature -> raw value) so one table holds any
model's rows and a new feature never breaks the schema; monitors cast each feature to its kind. A
ranked answer (the recommender's items) goes to `outputs`.

The serving API sends its records through Kafka as JSON arrays of `InferenceRecord.wire()` values;
`parsed_inferences` turns such a message back into one row per record in the table's columns.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from functools import reduce
from dataclasses import dataclass, field
from datetime import datetime

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DoubleType, MapType, StringType, StructField, StructType, TimestampType

from lakeforge.errors import DataError
from lakeforge.tables import delta

INFERENCE_TABLE = "inference_log"
LABELS_TABLE = "inference_labels"

INFERENCE_SCHEMA = StructType([
    StructField("request_id", StringType(), False),
    StructField("scored_at", TimestampType(), False),
    StructField("model_name", StringType(), False),
    StructField("model_version", StringType(), False),
    StructField("entity_id", StringType(), True),  # what the prediction is about; labels join on it
    StructField("inputs", MapType(StringType(), StringType()), False),
    StructField("prediction", DoubleType(), True),  # the class (0/1) or the regression value
    StructField("score", DoubleType(), True),  # classification: probability of the positive class
    StructField("latency_ms", DoubleType(), True),
    StructField("outputs", ArrayType(StringType()), True),  # a ranked answer, best first (recommendations)
])
MALFORMED, POSITION, RECORD_TEXT = "_malformed", "_position", "_record_text"
WIRE_SCHEMA = StructType([StructField(f.name, StringType() if f.name == "scored_at" else f.dataType, True) for f in INFERENCE_SCHEMA.fields])

LABELS_SCHEMA = StructType([
    StructField("entity_id", StringType(), False),
    StructField("label", DoubleType(), False),
    StructField("observed_at", TimestampType(), False),  # when the outcome became known
])


@dataclass(frozen=True)
class InferenceRecord:
    """One prediction as the serving API sees it (batch paths build DataFrames with `inference_columns`)."""

    model_name: str
    model_version: str
    inputs: dict[str, object]
    prediction: float | None
    scored_at: datetime
    score: float | None = None
    latency_ms: float | None = None
    entity_id: str | None = None
    outputs: list[str] | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def as_row(self) -> dict:
        inputs = {key: None if value is None else str(value) for key, value in self.inputs.items()}
        return {**{name: getattr(self, name) for name in INFERENCE_SCHEMA.fieldNames()}, "inputs": inputs}

    def wire(self) -> dict:
        """The record as JSON-ready values; scored_at as ISO 8601 with its offset (Spark casts that text back)."""
        return {**self.as_row(), "scored_at": self.scored_at.isoformat()}


def inference_frame(spark: SparkSession, records: Iterable[InferenceRecord]) -> DataFrame:
    return spark.createDataFrame([record.as_row() for record in records], INFERENCE_SCHEMA)


def parsed_inferences(payload: str) -> Callable[[DataFrame], DataFrame]:
    """Transform: rows with a JSON array of records in column `payload` -> one row per record (its
    `_position` in the array) with the table's columns, its own text in `_record_text`, and `_malformed`:
    true for a record without every required field. Text that is not an array is one malformed row."""

    def transform(df: DataFrame) -> DataFrame:
        exploded = df.select("*", F.posexplode_outer(F.from_json(payload, ArrayType(WIRE_SCHEMA))).alias(POSITION, "_record"))
        record = F.col("_record")
        typed = exploded.select(
            *df.columns, POSITION, *[record[f.name].cast(f.dataType).alias(f.name) for f in INFERENCE_SCHEMA.fields],
            F.coalesce(F.to_json(record), F.col(payload)).alias(RECORD_TEXT),
        )
        complete = reduce(lambda a, b: a & b, [F.col(f.name).isNotNull() for f in INFERENCE_SCHEMA.fields if not f.nullable])
        return typed.withColumn(MALFORMED, ~F.coalesce(complete, F.lit(False)))

    return transform


def inputs_map(features: list[str]) -> Column:
    """The `inputs` column from feature columns of any type (their text, null kept as null)."""
    pairs = [item for name in features for item in (F.lit(name), F.col(f"`{name}`").cast("string"))]
    return F.create_map(*pairs)


def conform(df: DataFrame, schema: StructType) -> DataFrame:
    """The table's columns in its order and types; a missing column is an error, not a null."""
    missing = [name for name in schema.fieldNames() if name not in df.columns]
    if missing:
        raise DataError(f"rows for the inference tables lack columns {missing}; expected {schema.fieldNames()}, got {df.columns}")
    return df.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])


def append_inferences(df: DataFrame, path: str) -> None:
    delta.append(conform(df, INFERENCE_SCHEMA), path)


def append_labels(df: DataFrame, path: str) -> None:
    delta.append(conform(df, LABELS_SCHEMA), path)


def read_table(spark: SparkSession, path: str, schema: StructType) -> DataFrame:
    """The table, or no rows of its schema when nothing was written yet."""
    if not delta.exists(spark, path):
        return spark.createDataFrame([], schema)
    return spark.read.format("delta").load(path)
