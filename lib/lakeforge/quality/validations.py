"""Great Expectations results of every batch, kept in a Delta table for monitoring and audits."""

from __future__ import annotations

import json

from pyspark.sql import SparkSession
from pyspark.sql.types import BooleanType, LongType, StringType, StructField, StructType, TimestampType

from lakeforge.quality.expectations import ValidationReport
from lakeforge.tables import delta
from lakeforge.tables.audit import utcnow
from lakeforge.tables.layout import Lakehouse

VALIDATION_TABLE = "validations"

VALIDATION_SCHEMA = StructType(
    [
        StructField("run_id", StringType(), False),
        StructField("suite", StringType(), False),
        StructField("rule", StringType(), False),
        StructField("policy", StringType(), False),
        StructField("success", BooleanType(), False),
        StructField("element_count", LongType(), True),
        StructField("unexpected_count", LongType(), True),
        StructField("observed_value", StringType(), True),
        StructField("validated_at", TimestampType(), False),
    ]
)


def record_validations(spark: SparkSession, lakehouse: Lakehouse, run_id: str, reports: list[ValidationReport]) -> None:
    """One append per run: small Delta commits cost about a second each on a laptop."""
    now = utcnow()
    rows = [
        (run_id, report.suite_name, rule, result.policy, result.success, result.element_count, result.unexpected_count,
         None if result.observed_value is None else json.dumps(result.observed_value, default=str), now)
        for report in reports
        for rule, result in report.results.items()
    ]
    if rows:
        delta.append(spark.createDataFrame(rows, VALIDATION_SCHEMA), lakehouse.system(VALIDATION_TABLE))
