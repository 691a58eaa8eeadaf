"""The audit table: one row per job run, source and layer, with the row reconciliation.

For batch sources it is also the commit log: the rows of one source (with its new watermark) are
appended in one Delta commit only after that source's bronze and silver writes reconcile, so a
source's rows in bronze count as committed exactly when its audit rows say `succeeded`.
"""

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
        # A batch source's high-water mark after this run, on its bronze row (value and Spark type).
        StructField("watermark", StringType(), True),
        StructField("watermark_type", StringType(), True),
    ]
)

STARTED, SUCCEEDED, FAILED, UNRECONCILED = "started", "succeeded", "failed", "unreconciled"


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_run_id() -> str:
    return f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


class ReconciliationError(RuntimeError):
    """Rows were lost or invented between layers."""


@dataclass(frozen=True)
class Watermark:
    """How far an incremental source has been read: the value as text and its Spark SQL type."""

    value: str
    type: str = "string"


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


def audit_rows(
    run: Run, layers: list[LayerCounts], status: str, error: str | None, ended_at: datetime | None, watermark: Watermark | None = None
) -> list[dict]:
    rows = []
    for counts in layers:
        values = asdict(counts)
        mark = watermark if watermark is not None and counts.layer == "bronze" else None
        rows.append(
            {
                "run_id": run.run_id,
                "job": run.job,
                "source": counts.source,
                "layer": counts.layer,
                "started_at": run.started_at,
                "ended_at": ended_at,
                **{f"rows_{name}": values[name] for name in ("read", "written", "quarantined", "deduplicated", "inserted", "updated")},
                "status": status if counts.balanced else UNRECONCILED,
                "error": error,
                "watermark": mark.value if mark else None,
                "watermark_type": mark.type if mark else None,
            }
        )
    return rows


def append_audit_rows(spark: SparkSession, lakehouse: Lakehouse, rows: list[dict]) -> None:
    delta.append(spark.createDataFrame(rows, AUDIT_SCHEMA), lakehouse.system(AUDIT_TABLE))


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def record_run(spark: SparkSession, lakehouse: Lakehouse, run: Run, error: BaseException | None = None) -> None:
    """Append the run's rows to the audit table, then fail if any layer does not reconcile."""
    # A run that failed before touching any layer still leaves one row saying so.
    layers = run.layers or [LayerCounts(source=run.job, layer="job")]
    rows = audit_rows(run, layers, FAILED if error else SUCCEEDED, describe(error) if error else None, utcnow())
    append_audit_rows(spark, lakehouse, rows)
    if error is None:
        for counts in run.layers:
            counts.check()


def record_start(spark: SparkSession, lakehouse: Lakehouse, run: Run) -> None:
    """A `started` job row: a run killed before its end row stays visible as never finished."""
    append_audit_rows(spark, lakehouse, audit_rows(run, [LayerCounts(source=run.job, layer="job")], STARTED, None, None))


def record_end(spark: SparkSession, lakehouse: Lakehouse, run: Run, layers: list[LayerCounts], error: BaseException | None) -> None:
    """The job row with the run's outcome, plus the rows of layers no source commit recorded."""
    job = LayerCounts(source=run.job, layer="job")
    status, message = (FAILED, describe(error)) if error else (SUCCEEDED, None)
    append_audit_rows(spark, lakehouse, audit_rows(run, [*layers, job], status, message, utcnow()))


def commit_source(spark: SparkSession, lakehouse: Lakehouse, run: Run, layers: list[LayerCounts], watermark: Watermark | None) -> None:
    """Commit one batch source: its layers' rows (bronze carrying the watermark) in one Delta append.

    Raises ReconciliationError before writing anything if a layer does not balance, so an
    unbalanced slice is never committed and is read again by the next run.
    """
    for counts in layers:
        counts.check()
    append_audit_rows(spark, lakehouse, audit_rows(run, layers, SUCCEEDED, None, utcnow(), watermark))


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


def committed_runs(spark: SparkSession, lakehouse: Lakehouse, source: str) -> DataFrame:
    """Ids of the runs whose slice of `source` was committed (its bronze audit row succeeded)."""
    audit = read_audit(spark, lakehouse)
    committed = (F.col("source") == source) & (F.col("layer") == "bronze") & (F.col("status") == SUCCEEDED)
    return audit.where(committed).select("run_id").distinct()


def discard_uncommitted_runs(spark: SparkSession, lakehouse: Lakehouse, source: str, table_paths: list[str]) -> None:
    """Delete the rows that runs which never committed `source` left in its tables (bronze, quarantine).

    Such a run did not store its watermark, so the next read covers its slice again; removing the
    first copy is what keeps that re-read from duplicating rows.
    """
    committed = committed_runs(spark, lakehouse, source)
    for path in table_paths:
        if not delta.exists(spark, path):
            continue
        landed = spark.read.format("delta").load(path).where(F.col("_source") == source)
        uncommitted = landed.select(F.col("_run_id").alias("run_id")).distinct().join(committed, "run_id", "left_anti")
        if uncommitted.isEmpty():
            continue
        (
            DeltaTable.forPath(spark, path)
            .alias("t")
            .merge(uncommitted.alias("u"), "t._run_id = u.run_id")
            .whenMatchedDelete()
            .execute()
        )
