"""The deployment log: a Delta table with one row per decision (validate, promote, deploy, rollback...)
and its reasons, so what went live, when and why can be read back."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, BooleanType, StringType, StructField, StructType, TimestampType

from lakeforge.tables import delta

LOG_SCHEMA = StructType([
    StructField("deployment_id", StringType(), False),
    StructField("decided_at", TimestampType(), False),
    StructField("model", StringType(), False),
    StructField("step", StringType(), False),  # run | validate | promote | deploy | smoke_test | rollback
    StructField("outcome", StringType(), False),  # e.g. passed, refused, skipped, failed, rolled_back
    StructField("passed", BooleanType(), False),
    StructField("run_mode", StringType(), False),
    StructField("target", StringType(), True),
    StructField("challenger_version", StringType(), True),
    StructField("champion_version", StringType(), True),  # the champion when the decision was made
    StructField("reasons", ArrayType(StringType()), False),
    StructField("mlflow_run_id", StringType(), True),
])


def new_deployment_id() -> str:
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Decision:
    deployment_id: str
    model: str
    step: str
    outcome: str
    passed: bool
    run_mode: str
    target: str | None = None
    challenger_version: str | None = None
    champion_version: str | None = None
    reasons: list[str] = field(default_factory=list)
    mlflow_run_id: str | None = None


class DeploymentLog:
    def __init__(self, spark: SparkSession, path: str):
        self.spark, self.path = spark, path

    def record(self, decision: Decision) -> Decision:
        row = {**asdict(decision), "decided_at": datetime.now(timezone.utc).replace(tzinfo=None)}
        delta.append(self.spark.createDataFrame([row], LOG_SCHEMA), self.path)
        return decision

    def read(self, model: str | None = None) -> DataFrame:
        if not delta.exists(self.spark, self.path):
            return self.spark.createDataFrame([], LOG_SCHEMA)
        frame = self.spark.read.format("delta").load(self.path)
        return frame.where(F.col("model") == model) if model else frame

    def recent(self, model: str | None = None, limit: int = 20) -> list[dict]:
        rows = self.read(model).orderBy(F.desc("decided_at")).limit(limit).collect()
        return [row.asDict() for row in rows]
