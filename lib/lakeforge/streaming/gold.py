"""Silver -> gold: per device, tumbling event-time windows with count, mean, min, max and stddev."""

from __future__ import annotations

from collections.abc import Callable

import time
from concurrent.futures import Future, ThreadPoolExecutor

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.streaming.config import GoldSettings
from lakeforge.streaming.silver import SILVER_BATCH
from lakeforge.streaming.sink import commit_marker, last_committed_batch
from lakeforge.tables import delta

KEYS = ["device_id", "window_start"]


def window_aggregates(metrics: list[str], window: str) -> Callable[[DataFrame], DataFrame]:
    """One row per (device_id, window): the same on a stream and on a batch, so gold can be checked
    against a recomputation from silver."""

    def transform(df: DataFrame) -> DataFrame:
        stats = [
            stat
            for metric in metrics
            for stat in (
                F.avg(metric).alias(f"{metric}_mean"),
                F.min(metric).alias(f"{metric}_min"),
                F.max(metric).alias(f"{metric}_max"),
                F.stddev_samp(metric).alias(f"{metric}_stddev"),
            )
        ]
        grouped = df.groupBy("device_id", F.window("event_time", window).alias("window"))
        return grouped.agg(F.count(F.lit(1)).alias("readings"), *stats).select(
            "device_id",
            F.col("window.start").alias("window_start"),
            F.col("window.end").alias("window_end"),
            "readings",
            *[F.col(f"{metric}_{stat}") for metric in metrics for stat in ("mean", "min", "max", "stddev")],
        )

    return transform


def windowed_stream(silver: DataFrame, settings: GoldSettings) -> DataFrame:
    """Late rows within the watermark update their window (emitted again in update mode); later rows
    are dropped by Spark and counted in the progress table (rows_dropped_by_watermark)."""
    return silver.withWatermark("event_time", settings.watermark).transform(window_aggregates(settings.metrics, settings.window))


def merge_windows(gold_path: str):
    """foreachBatch writer: each updated window replaces its row, so a replayed batch changes nothing."""

    def write(batch: DataFrame, _batch_id: int) -> None:
        if not batch.isEmpty():
            delta.merge_upsert(batch.sparkSession, batch, gold_path, KEYS, latest_by=None)

    return write


class WindowRefresher:
    """Gold kept by the single-pass query: the windows that silver rows of batches not yet covered fall
    in are recomputed from silver and replace gold's rows of that time span in one overwrite
    (replaceWhere), at most once per `every_seconds`.

    A recomputation is the same however often it runs, so a crash between silver's commit and gold's
    loses nothing: the overwrite's commit marks the last silver batch it covered (`<writer>@<batch>`), and
    the next refresh, in this run or the next, starts after it. Unlike the gold query's streaming
    aggregate, no row silver holds is left out as late.
    """

    def __init__(self, settings: GoldSettings, silver_path: str, gold_path: str, writer: str, every_seconds: float):
        self.settings, self.silver_path, self.gold_path, self.writer = settings, silver_path, gold_path, writer
        self.every_seconds = every_seconds
        self._covered: int | None = None  # the last silver batch in gold; read from gold's history once per run
        self._last_refresh = float("-inf")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gold-refresh")
        self._running: Future | None = None

    def due(self) -> bool:
        return time.monotonic() - self._last_refresh >= self.every_seconds

    def refresh_in_background(self, spark: SparkSession) -> None:
        """Start a refresh on a thread of its own when due and none is running, so silver's next
        micro-batch does not wait for gold; a refresh that failed raises here, in the query's thread."""
        if self._running is not None and self._running.done():
            running, self._running = self._running, None
            running.result()
        if self._running is None and self.due():
            self._last_refresh = time.monotonic()
            self._running = self._pool.submit(self.refresh, spark)

    def finish(self, spark: SparkSession) -> None:
        """Wait for a running refresh, then bring gold up to every silver batch (the job is stopping)."""
        running, self._running = self._running, None
        if running is not None:
            running.result()
        self.refresh(spark)

    def refresh(self, spark: SparkSession) -> None:
        """Bring gold up to every silver batch committed so far."""
        self._last_refresh = time.monotonic()
        if not delta.exists(spark, self.silver_path):
            return
        if self._covered is None:
            self._covered = last_committed_batch(spark, self.gold_path, self.writer)
            self._covered = -1 if self._covered is None else self._covered
        silver = spark.read.format("delta").load(self.silver_path)
        window = F.window("event_time", self.settings.window)
        # The span's bounds as text in the session's time zone, as replaceWhere reads them.
        first, last, end, last_batch = (
            silver.where(F.col(SILVER_BATCH) > self._covered)
            .agg(*[F.date_format(bound, "yyyy-MM-dd HH:mm:ss.SSSSSS") for bound in (F.min(window.start), F.max(window.start), F.max(window.end))], F.max(SILVER_BATCH))
            .first()
        )
        if last_batch is None:
            return
        # Every window from first to last is recomputed from all of silver's rows in it and replaces
        # what gold holds there: one overwrite of that span, no join with gold.
        rows = silver.where((F.col("event_time") >= F.lit(first).cast("timestamp")) & (F.col("event_time") < F.lit(end).cast("timestamp")))
        windows = rows.transform(window_aggregates(self.settings.metrics, self.settings.window))
        writer = windows.write.format("delta").option("userMetadata", commit_marker(self.writer, last_batch))
        if delta.exists(spark, self.gold_path):
            writer = writer.mode("overwrite").option("replaceWhere", f"window_start >= '{first}' AND window_start <= '{last}'")
        writer.save(self.gold_path)
        self._covered = last_batch
