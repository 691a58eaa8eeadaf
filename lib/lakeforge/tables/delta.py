"""Delta Lake writes used by every layer: idempotent appends, keyed upserts, table facts."""

from __future__ import annotations

from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True)
class MergeResult:
    source_rows: int  # as counted by Delta, so the audit does not trust our own count
    inserted: int
    updated: int


def exists(spark: SparkSession, path: str) -> bool:
    return DeltaTable.isDeltaTable(spark, path)


def append(df: DataFrame, path: str, app_id: str | None = None, version: int | None = None) -> None:
    """Append rows; with (app_id, version) Delta skips a write it has already committed."""
    writer = df.write.format("delta").mode("append").option("mergeSchema", "true")
    if app_id is not None and version is not None:
        # Idempotent writes: a replayed micro-batch or re-run commits nothing twice.
        writer = writer.option("txnAppId", app_id).option("txnVersion", version)
    writer.save(path)


def merge_upsert(spark: SparkSession, df: DataFrame, path: str, keys: list[str], latest_by: str | None) -> MergeResult:
    """Insert new keys and update existing ones, never replacing a row with an older version of it."""
    if not exists(spark, path):
        df.write.format("delta").mode("append").save(path)
        written = int(last_operation_metrics(spark, path).get("numOutputRows", 0))
        return MergeResult(source_rows=written, inserted=written, updated=0)
    on = " AND ".join(f"t.`{key}` <=> s.`{key}`" for key in keys)
    newer = f"s.`{latest_by}` >= t.`{latest_by}` OR t.`{latest_by}` IS NULL" if latest_by else None
    version_before = version_of(spark, path)
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(df.alias("s"), on)
        .whenMatchedUpdateAll(condition=newer)
        .whenNotMatchedInsertAll()
        .execute()
    )
    if version_of(spark, path) == version_before:  # Delta commits nothing for an empty source
        return MergeResult(source_rows=0, inserted=0, updated=0)
    metrics = last_operation_metrics(spark, path)
    return MergeResult(
        source_rows=int(metrics.get("numSourceRows", 0)),
        inserted=int(metrics.get("numTargetRowsInserted", 0)),
        updated=int(metrics.get("numTargetRowsUpdated", 0)),
    )


def last_operation_metrics(spark: SparkSession, path: str) -> dict[str, str]:
    """Delta's own counts for the latest commit (no extra pass over the data)."""
    row = DeltaTable.forPath(spark, path).history(1).select("operationMetrics").first()
    return dict(row["operationMetrics"] or {}) if row else {}


def version_of(spark: SparkSession, path: str) -> int:
    return int(DeltaTable.forPath(spark, path).history(1).select("version").first()["version"])
