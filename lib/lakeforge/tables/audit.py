"""The audit table: one row per job run, source and layer, with the row reconciliation."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from lakeforge.tables import delta
from lakeforge.tables.layout import Lakehouse

AUDIT_TABLE = "audit"

AUDIT_SCHEMA = StructType(
    [
        StructField("run_id", StringType(), False),
        StructField("job", StringType(), False),
        StructField("source", StringType(), False),
        StructField("layer", StringType(), False),
        StructField("started_at", TimestampType(), False),
        StructField("ended_at", TimestampType(), True),
        StructField("rows_read", LongType(), False),
        StructField("rows_written", LongType(), False),
        StructField("rows_quarantined", LongType(), False),
        StructField("rows_deduplicated", LongType(), False),
        StructField("rows_inserted", LongType(), False),
        StructField("rows_updated", LongType(), False),
        StructField("status", StringType(), False),
        StructField("error", StringType(), True),
    ]
)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_run_id() -> str:
    return f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


class ReconciliationError(RuntimeError):
    """Rows were lost or invented between layers."""


@dataclass
class LayerCounts:
    """What one layer of one source did in one run; counts add up across micro-batches."""

    source: str
    layer: str
    read: int = 0
    written: int = 0
    quarantined: int = 0
    deduplicated: int = 0
    inserted: int = 0
    updated: int = 0

    def add(self, other: LayerCounts) -> None:
        for name in ("read", "written", "quarantined", "deduplicated", "inserted", "updated"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def balanced(self) -> bool:
        return self.read == self.written + self.quarantined + self.deduplicated

    def check(self) -> None:
        if not self.balanced:
            raise ReconciliationError(
                f"{self.source}/{self.layer}: read {self.read} rows but wrote {self.written}, "
                f"quarantined {self.quarantined} and removed {self.deduplicated} duplicates "
                f"({self.read - self.written - self.quarantined - self.deduplicated} unaccounted for)"
            )


@dataclass
class Run:
    """One execution of a job: its id and the per-layer counts it accumulates."""

    job: str
    run_id: str = field(default_factory=new_run_id)
    started_at: datetime = field(default_factory=utcnow)
    layers: list[LayerCounts] = field(default_factory=list)

    def layer(self, source: str, layer: str) -> LayerCounts:
        for counts in self.layers:
            if counts.source == source and counts.layer == layer:
                return counts
        counts = LayerCounts(source=source, layer=layer)
        self.layers.append(counts)
        return counts


def audit_rows(run: Run, status: str, error: str | None, ended_at: datetime) -> list[dict]:
    rows = []
    # A run that failed before touching any layer still leaves one row saying so.
    for counts in run.layers or [LayerCounts(source=run.job, layer="job")]:
        values = asdict(counts)
        rows.append(
            {
                "run_id": run.run_id,
                "job": run.job,
                "source": counts.source,
                "layer": counts.layer,
                "started_at": run.started_at,
                "ended_at": ended_at,
                **{f"rows_{name}": values[name] for name in ("read", "written", "quarantined", "deduplicated", "inserted", "updated")},
                "status": status if counts.balanced else "unreconciled",
                "error": error,
            }
        )
    return rows


def record_run(spark: SparkSession, lakehouse: Lakehouse, run: Run, error: BaseException | None = None) -> None:
    """Append the run's rows to the audit table, then fail if any layer does not reconcile."""
    status = "failed" if error else "succeeded"
    message = f"{type(error).__name__}: {error}" if error else None
    rows = audit_rows(run, status, message, utcnow())
    delta.append(spark.createDataFrame(rows, AUDIT_SCHEMA), lakehouse.system(AUDIT_TABLE))
    if error is None:
        for counts in run.layers:
            counts.check()


def read_audit(spark: SparkSession, lakehouse: Lakehouse) -> DataFrame:
    path = lakehouse.system(AUDIT_TABLE)
    if not delta.exists(spark, path):
        return spark.createDataFrame([], AUDIT_SCHEMA)
    return spark.read.format("delta").load(path)


def recent_runs(spark: SparkSession, lakehouse: Lakehouse, limit: int = 20) -> list[dict]:
    audit = read_audit(spark, lakehouse)
    latest = [row["run_id"] for row in audit.groupBy("run_id").agg(F.max("started_at").alias("t")).orderBy(F.desc("t")).limit(limit).collect()]
    rows = audit.where(F.col("run_id").isin(latest)).orderBy(F.desc("started_at"), "source", "layer").collect()
    return [row.asDict() for row in rows]


def discard_uncommitted_runs(spark: SparkSession, lakehouse: Lakehouse, table_path: str) -> None:
    """Delete rows landed by runs that failed or crashed before recording success.

    Batch sources (JDBC, REST) re-read such a run's slice because its watermark never advanced,
    so removing the first copy is what keeps a retry from duplicating bronze.
    """
    if not delta.exists(spark, table_path):
        return
    committed = read_audit(spark, lakehouse).where(F.col("status") != "failed").select("run_id").distinct()
    landed = spark.read.format("delta").load(table_path).select(F.col("_run_id").alias("run_id")).distinct()
    uncommitted = landed.join(committed, "run_id", "left_anti")
    if uncommitted.isEmpty():
        return
    (
        DeltaTable.forPath(spark, table_path)
        .alias("t")
        .merge(uncommitted.alias("u"), "t._run_id = u.run_id")
        .whenMatchedDelete()
        .execute()
    )
