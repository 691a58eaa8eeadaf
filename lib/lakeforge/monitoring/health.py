"""Pipeline health from the audit and stream-progress tables: freshness against each table's SLA, rows
quarantined per run, streaming micro-batch duration and lag.

One row per check and subject; `usage` is the value as a share of its limit (above 1: breached), so
one alert rule (`metric: usage, threshold: 1`) covers every check.
"""

from __future__ import annotations

import math
from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakeforge.monitoring.config import FreshnessSla, PipelineLimits

COLUMNS = ["checked_at", "observed_at", "check", "subject", "run_id", "value", "limit", "usage", "detail"]


def _health(now: datetime, observed_at: Column, check: str, subject: Column, run_id: Column, value: Column, limit: Column,
            usage: Column, detail: Column) -> list[Column]:
    return [F.lit(now).cast("timestamp").alias("checked_at"), observed_at.cast("timestamp").alias("observed_at"), F.lit(check).alias("check"),
            subject.alias("subject"), run_id.cast("string").alias("run_id"), value.cast("double").alias("value"),
            limit.cast("double").alias("limit"), usage.cast("double").alias("usage"), detail.alias("detail")]


def seconds_between(later: Column, earlier: Column) -> Column:
    return later.cast("timestamp").cast("double") - earlier.cast("double")


def freshness(audit: DataFrame, slas: list[FreshnessSla], now: datetime) -> DataFrame:
    """Minutes since each (source, layer)'s latest successful run; a table never loaded has usage inf."""
    spark = audit.sparkSession
    limits = spark.createDataFrame([(s.source, s.layer, s.max_age_minutes) for s in slas], "source string, layer string, max_age double")
    latest = audit.where(F.col("status") == "succeeded").groupBy("source", "layer").agg(F.max("ended_at").alias("last"))
    age = seconds_between(F.lit(now), F.col("last").cast("timestamp")) / 60
    return limits.join(latest, ["source", "layer"], "left").select(*_health(
        now, F.coalesce(F.col("last"), F.lit(now)), "freshness", F.concat_ws("/", "source", "layer"), F.lit(None), age, F.col("max_age"),
        F.coalesce(age / F.col("max_age"), F.lit(math.inf)),
        F.when(F.col("last").isNull(), F.lit("no successful run")).otherwise(F.concat(F.lit("last success "), F.col("last").cast("string"))),
    ))


def quarantined(audit: DataFrame, limits: PipelineLimits, now: datetime) -> DataFrame:
    """Rows quarantined by each source and layer in the latest runs, against max_quarantined_share of rows read."""
    recent = audit.groupBy("run_id").agg(F.max("started_at").alias("t")).orderBy(F.desc("t")).limit(limits.recent_runs)
    runs = audit.join(recent.select("run_id"), "run_id").where(F.col("rows_read") > 0)
    share = F.col("rows_quarantined") / F.col("rows_read")
    return runs.select(*_health(
        now, F.col("started_at"), "quarantine", F.concat_ws("/", "job", "source", "layer"), F.col("run_id"), F.col("rows_quarantined"),
        F.col("rows_read") * limits.max_quarantined_share, share / limits.max_quarantined_share,
        F.format_string("%d of %d rows read", F.col("rows_quarantined"), F.col("rows_read")),
    ))


def streams(progress: DataFrame, limits: PipelineLimits, now: datetime) -> DataFrame:
    """Each query's latest micro-batch: its duration, and the seconds since it started (lag)."""
    last = progress.groupBy("query").agg(F.max_by(F.struct("run_id", "batch_id", "started_at", "batch_duration_ms"), "started_at").alias("b"))
    duration = F.col("b.batch_duration_ms") / 1000
    lag = seconds_between(F.lit(now), F.col("b.started_at"))
    batch = last.select(*_health(now, F.col("b.started_at"), "stream_batch_seconds", F.col("query"), F.col("b.run_id"), duration,
                                 F.lit(limits.max_batch_seconds), duration / limits.max_batch_seconds,
                                 F.concat(F.lit("batch "), F.col("b.batch_id").cast("string"))))
    behind = last.select(*_health(now, F.col("b.started_at"), "stream_lag_seconds", F.col("query"), F.col("b.run_id"), lag,
                                  F.lit(limits.max_stream_lag_seconds), lag / limits.max_stream_lag_seconds,
                                  F.concat(F.lit("latest batch started "), F.col("b.started_at").cast("string"))))
    return batch.unionByName(behind)


def pipeline_health(audit: DataFrame, progress: DataFrame, limits: PipelineLimits, now: datetime) -> DataFrame:
    return freshness(audit, limits.freshness, now).unionByName(quarantined(audit, limits, now)).unionByName(streams(progress, limits, now))
