"""Smoke test: score the configured rows with the deployed model and compare with their known predictions."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from lakeforge.deployment.config import SmokeCase
from lakeforge.deployment.evaluation import LoadedModel

CASE = "__case"
NO_USER_CASES = "no smoke cases configured: a deployment is checked by at least one user with a known answer"


def case_frame(spark: SparkSession, cases: list[SmokeCase], schema: StructType) -> DataFrame:
    """One row per case in the model's input schema; values are given as text and cast like Spark casts
    text. Inputs a case leaves out are null; values of columns the model does not take are left out,
    so one set of cases serves versions with different features."""
    text_schema = StructType([StructField(CASE, StringType(), False), *[StructField(name, StringType(), True) for name in schema.fieldNames()]])
    rows = [[case.name, *[None if case.row.get(name) is None else str(case.row[name]) for name in schema.fieldNames()]] for case in cases]
    frame = spark.createDataFrame(rows, text_schema)
    return frame.select(CASE, *[F.col(f"`{field.name}`").cast(field.dataType).alias(field.name) for field in schema.fields])


def smoke_failures(spark: SparkSession, model: LoadedModel, cases: list[SmokeCase]) -> list[str]:
    """Why the model is not fit to serve: each case whose prediction differs, or the scoring error."""
    if not cases:
        return ["no smoke cases configured: a deployment is checked by at least one row with a known prediction"]
    try:
        scored = model.pipeline.transform(case_frame(spark, cases, model.schema)).select(CASE, "prediction").collect()
    except Exception as error:  # any failure to score is the finding, with its message
        return [f"version {model.version} failed to score the smoke cases: {type(error).__name__}: {error}"]
    predicted = {row[CASE]: float(row["prediction"]) for row in scored}
    return [
        f"smoke case {case.name!r}: version {model.version} predicted {predicted.get(case.name)}, expected {case.prediction}"
        for case in cases
        if predicted.get(case.name) != case.prediction
    ]
