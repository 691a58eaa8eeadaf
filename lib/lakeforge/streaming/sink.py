"""Exactly-once appends of micro-batches to Delta, checked once per query run instead of once per batch.

Delta's idempotent write (txnAppId/txnVersion) looks the app id up in the table's transactions on every
write, and Delta 4.0 rebuilds the table state in a Spark job to do it: about 0.5 s of a silver
micro-batch of about 1.6 s on this machine. Structured Streaming replays only the batch a query was
running when it stopped, and always as the first batch of the next run, so a check is needed only
for a batch that does not follow the one before it in this process. Each commit carries
`<writer>@<batch id>` in its userMetadata; such a batch is compared with the table's history and
skipped if this writer committed it (or a later one) already.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.tables import delta


def writer_id(query: str, table: str) -> str:
    """The writer a query's appends to one table are marked with."""
    return f"{query}:{table}"


def commit_marker(writer: str, batch_id: int) -> str:
    return f"{writer}@{batch_id}"


def last_committed_batch(spark: SparkSession, path: str, writer: str) -> int | None:
    """The highest batch id `writer` committed to the table, from the commits its history keeps."""
    if not delta.exists(spark, path):
        return None
    prefix = f"{writer}@"
    row = (
        DeltaTable.forPath(spark, path)
        .history()
        .where(F.col("userMetadata").startswith(prefix))
        .select(F.max(F.substring_index("userMetadata", "@", -1).cast("bigint")).alias("batch"))
        .first()
    )
    return None if row is None else row["batch"]


def committed_rows(spark: SparkSession, path: str, writer: str, batch_ids: set[int]) -> dict[int, int]:
    """Rows each of `batch_ids` appended, from the numOutputRows of the commits `writer` marked with it
    (a batch absent from the result wrote no rows to the table). Reads the history from the newest
    commit back only until it passes the oldest batch asked for."""
    if not batch_ids or not delta.exists(spark, path):
        return {}
    prefix, limit = f"{writer}@", len(batch_ids) + 16
    while True:
        history = DeltaTable.forPath(spark, path).history(limit).select("userMetadata", "operationMetrics").collect()
        marked = {
            int(row["userMetadata"].removeprefix(prefix)): int(row["operationMetrics"]["numOutputRows"])
            for row in history
            if (row["userMetadata"] or "").startswith(prefix)
        }
        # A writer commits its batches in order: once an older batch shows, none asked for lies further back.
        if len(history) < limit or batch_ids <= marked.keys() or min(marked, default=min(batch_ids)) < min(batch_ids):
            return {batch: rows for batch, rows in marked.items() if batch in batch_ids}
        limit *= 4


@dataclass
class MicroBatchAppender:
    """One streaming query's appends to one Delta table (one instance per query run)."""

    path: str
    writer: str  # unique per query and table: the marker this writer looks for after a restart
    stats_columns: list[str] | None = None  # the columns a table this writer creates keeps file statistics for (None: Delta's default)
    _previous: int | None = field(default=None, init=False)  # the batch offered before this one

    def append(self, rows: DataFrame | None, batch_id: int) -> bool:
        """Append `rows` as batch `batch_id` unless it was committed before; None: the batch has no rows
        for this table. True if rows were written."""
        follows = self._previous is not None and batch_id == self._previous + 1
        self._previous = batch_id
        if rows is None:
            return False
        if not follows:
            committed = last_committed_batch(rows.sparkSession, self.path, self.writer)
            if committed is not None and batch_id <= committed:
                return False  # a replay of a batch whose commit landed before the query stopped
        (
            delta.with_stats_columns(rows.write, self.stats_columns)
            .format("delta")
            .mode("append")
            .option("mergeSchema", "true")
            .option("userMetadata", commit_marker(self.writer, batch_id))
            .save(self.path)
        )
        return True
