"""Silver -> gold: per device, tumbling event-time windows with count, mean, min, max and stddev."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakeforge.streaming.config import GoldSettings
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
