"""Writing a gold table: a whole rebuild, or a MERGE of the touched keys, each commit marked with the
input versions it was built from (so the next incremental build knows which changes are new)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import reduce

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.tables import delta
from lakeforge.tables.delta import MergeResult

MARKER_KEY = "lakeforge.gold"
USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"  # a MERGE takes its commit message from here
GONE = "_gone"  # a touched key the recomputed table no longer has: delete its row


@dataclass(frozen=True)
class BuildMarker:
    """How a gold commit was built: its mode and the version of each input table it read."""

    mode: str
    inputs: dict[str, int]

    def to_json(self) -> str:
        return json.dumps({MARKER_KEY: {"mode": self.mode, "inputs": self.inputs}}, sort_keys=True)


def last_build(spark: SparkSession, target: str) -> BuildMarker | None:
    """The marker of the table's latest gold build, None if it has none (not built yet)."""
    if not delta.exists(spark, target):
        return None
    commits = DeltaTable.forPath(spark, target).history().where(F.col("userMetadata").contains(MARKER_KEY))
    latest = commits.orderBy(F.col("version").desc()).select("userMetadata").first()
    if latest is None:
        return None
    built = json.loads(latest["userMetadata"])[MARKER_KEY]
    return BuildMarker(built["mode"], {table: int(version) for table, version in built["inputs"].items()})


def overwrite(rows: DataFrame, target: str, partition_by: list[str], marker: BuildMarker) -> int:
    """Replace the table with `rows`; returns Delta's count of rows written."""
    writer = rows.write.format("delta").mode("overwrite").option("overwriteSchema", "true").option("userMetadata", marker.to_json())
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(target)
    return int(delta.last_operation_metrics(rows.sparkSession, target).get("numOutputRows", 0))


def merge_touched_keys(spark: SparkSession, rows: DataFrame, touched: DataFrame, target: str, keys: list[str], marker: BuildMarker) -> MergeResult:
    """Upsert the recomputed rows of the touched keys and delete the touched keys that have none."""
    present = rows.withColumn("_present", F.lit(True))
    values = [column for column in rows.columns if column not in keys]
    source = touched.join(present, on=keys_match(touched, present, keys), how="left").select(
        *[touched[key] for key in keys], *[present[column] for column in values], present["_present"].isNull().alias(GONE)
    )
    assignments = {f"`{column}`": f"s.`{column}`" for column in rows.columns}
    version_before = delta.version_of(spark, target)
    spark.conf.set(USER_METADATA, marker.to_json())
    try:
        (
            DeltaTable.forPath(spark, target)
            .alias("t")
            .merge(source.alias("s"), " AND ".join(f"t.`{key}` <=> s.`{key}`" for key in keys))
            .whenMatchedDelete(condition=f"s.{GONE}")
            .whenMatchedUpdate(set=assignments)
            .whenNotMatchedInsert(condition=f"NOT s.{GONE}", values=assignments)
            .execute()
        )
    finally:
        spark.conf.unset(USER_METADATA)
    if delta.version_of(spark, target) == version_before:  # nothing touched: Delta commits nothing
        return MergeResult(source_rows=0, inserted=0, updated=0)
    metrics = delta.last_operation_metrics(spark, target)
    return MergeResult(
        source_rows=int(metrics.get("numSourceRows", 0)),
        inserted=int(metrics.get("numTargetRowsInserted", 0)),
        updated=int(metrics.get("numTargetRowsUpdated", 0)),
    )


def keys_match(left: DataFrame, right: DataFrame, keys: list[str]) -> Column:
    """Join condition on equal keys, null equal to null (a key may hold a null group)."""
    return reduce(Column.__and__, [left[key].eqNullSafe(right[key]) for key in keys])
