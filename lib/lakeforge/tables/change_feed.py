"""Delta's change data feed: which rows of a table changed between two versions."""

from __future__ import annotations

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession

CHANGE_FEED = "delta.enableChangeDataFeed"
CHANGE_COLUMNS = ("_change_type", "_commit_version", "_commit_timestamp")


def enable_change_feed(spark: SparkSession, path: str) -> None:
    """Record row changes from the next commit on (a no-op when the table already does)."""
    properties = DeltaTable.forPath(spark, path).detail().first()["properties"]
    if properties.get(CHANGE_FEED) != "true":
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({CHANGE_FEED} = true)")


def changed_rows(spark: SparkSession, path: str, after: int, until: int) -> DataFrame:
    """Every row image committed in versions (after, until]: inserts, deletes and both sides of an
    update, so a row that moved from one group to another shows under both."""
    return (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", after + 1)
        .option("endingVersion", until)
        .load(path)
        .drop(*CHANGE_COLUMNS)
    )
