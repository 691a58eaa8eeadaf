"""Anomaly detection on silver readings: fixed thresholds, a rolling robust z-score per device and
metric, and stuck sensors, each alerting once per episode; alerts go to a Delta table and the alerts topic."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lakeforge.streaming.config import AnomalySettings, KafkaSettings, interval_seconds
from lakeforge.streaming.kafka import spark_options
from lakeforge.streaming.sink import MicroBatchAppender

ALERT_COLUMNS = ["alert_id", "device_id", "seq", "event_time", "metric", "rule", "value", "score", "limit"]


class Candidate(NamedTuple):
    """One rule on one metric: where it fires, and the score and limit an alert reports."""

    rule: str
    metric: str
    fired: Column
    score: Column
    limit: Column


def threshold_alerts(settings: AnomalySettings) -> list[Candidate]:
    alerts = []
    for metric, bounds in settings.thresholds.items():
        value = F.col(metric)
        if bounds.max is not None:
            alerts.append(Candidate("threshold_high", metric, value > bounds.max, value, F.lit(bounds.max)))
        if bounds.min is not None:
            alerts.append(Candidate("threshold_low", metric, value < bounds.min, value, F.lit(bounds.min)))
    return alerts


def stuck_flag(metric: str) -> str:
    """The column stuck_alerts sets on each reading that ends `stuck_repeats` identical ones."""
    return f"_stuck_{metric}"


def stuck_run(metric: str) -> str:
    """The column stuck_alerts sets on every reading of a stuck run, its first ones included (once the
    readings that complete the run are in the frame)."""
    return f"_stuck_run_{metric}"


def zscore_alerts(df: DataFrame, settings: AnomalySettings) -> tuple[DataFrame, list[Candidate]]:
    """|value - centre| / spread of the device's previous `history` readings, once there are enough
    (median and 1.4826 MAD, or mean and standard deviation: zscore.method).

    The readings of a stuck run are left out of the history: a flat run's spread is near zero, and the
    first ordinary readings after it would all score far above the threshold.
    """
    skip = settings.zscore.skip_recent
    prior = Window.partitionBy("device_id").orderBy("seq").rowsBetween(-settings.zscore.history - skip, -1 - skip)
    alerts = []
    for metric in settings.zscore_metrics:
        value = F.when(~F.col(stuck_run(metric)), F.col(metric)) if metric in settings.stuck_metrics else F.col(metric)
        if settings.zscore.method == "mean_std":
            centre, spread, count = F.avg(value).over(prior), F.stddev_samp(value).over(prior), F.count(value).over(prior)
        else:
            # Window functions cannot sit inside the array functions: the sorted history is a column first.
            history = f"_history_{metric}"
            df = df.withColumn(history, F.array_sort(F.collect_list(value).over(prior)))
            centre, spread, count = median_and_mad(F.col(history))
        z = F.abs(F.col(metric) - centre) / F.nullif(spread, F.lit(0.0))
        fired = (count >= settings.zscore.min_history) & (z >= settings.zscore.threshold)
        alerts.append(Candidate("zscore", metric, fired, z, F.lit(settings.zscore.threshold)))
    return df, alerts


def sorted_median(values: Column) -> Column:
    """The median of a sorted array (null when empty)."""
    n = F.size(values)
    return (F.get(values, F.floor((n - 1) / 2).cast("int")) + F.get(values, F.floor(n / 2).cast("int"))) / 2


def median_and_mad(history: Column) -> tuple[Column, Column, Column]:
    """Median, spread and size of a sorted history. The spread is 1.4826 x the median absolute
    deviation (the standard deviation, for normal noise); where more than half the readings sit on
    the median (a quantised sensor), 1.2533 x the mean absolute deviation instead."""
    median = sorted_median(history)
    deviations = F.transform(history, lambda x: F.abs(x - median))
    mad = sorted_median(F.array_sort(deviations))
    mean_deviation = F.try_divide(F.aggregate(deviations, F.lit(0.0), lambda total, x: total + x), F.size(history))
    spread = F.when(mad > 0, mad * 1.4826).otherwise(mean_deviation * 1.2533)
    return median, spread, F.size(history)


def stuck_alerts(df: DataFrame, settings: AnomalySettings) -> tuple[DataFrame, list[Candidate]]:
    """A metric that repeats one value `stuck_repeats` readings in a row alerts once, on the reading
    that completes the run."""
    repeats = settings.stuck_repeats
    ordered = Window.partitionBy("device_id").orderBy("seq")
    run = ordered.rowsBetween(-(repeats - 1), 0)
    alerts = []
    for metric in settings.stuck_metrics:
        flag = stuck_flag(metric)
        stuck = (F.count(metric).over(run) == repeats) & (F.min(metric).over(run) == F.max(metric).over(run))
        df = df.withColumn(flag, F.coalesce(stuck, F.lit(False)))
        df = df.withColumn(stuck_run(metric), F.coalesce(F.max(flag).over(ordered.rowsBetween(0, repeats - 1)), F.lit(False)))
        started = F.col(flag) & ~F.coalesce(F.lag(flag).over(ordered), F.lit(False))
        alerts.append(Candidate("stuck", metric, started, F.lit(repeats), F.lit(repeats)))
    return df, alerts


def episode_starts(candidates: list[Candidate], gap: int) -> Column:
    """The alerts on each reading, as an array: a rule alerts for a metric on the first reading of an
    episode, a run of firing readings that ends after `gap` readings without firing (0: every firing
    reading alerts), so one incident (a level shift, a metric out of range for an hour) is one alert.

    Window functions cannot nest, nor sit inside explode(): the frame must already hold each
    candidate's firing and score (with_firings)."""
    recent = Window.partitionBy("device_id").orderBy("seq").rowsBetween(-gap, -1) if gap else None
    alerts = []
    for index, candidate in enumerate(candidates):
        fired = F.col(f"_fired_{index}")
        if recent is not None:
            fired = fired & ~F.coalesce(F.max(fired).over(recent), F.lit(False))
        alert = F.struct(F.lit(candidate.rule).alias("rule"), F.lit(candidate.metric).alias("metric"),
                         F.col(f"_score_{index}").alias("score"), candidate.limit.cast("double").alias("limit"))
        alerts.append(F.when(fired, alert))
    return F.filter(F.array(*alerts), lambda alert: alert.isNotNull())


def with_firings(df: DataFrame, candidates: list[Candidate]) -> DataFrame:
    return df.withColumns({
        **{f"_fired_{index}": F.coalesce(candidate.fired, F.lit(False)) for index, candidate in enumerate(candidates)},
        **{f"_score_{index}": candidate.score.cast("double") for index, candidate in enumerate(candidates)},
    })


def score_readings(history: DataFrame, settings: AnomalySettings) -> DataFrame:
    """Every alert the rules raise on `history` (devices' readings, ordered by seq), one row each."""
    flagged, stuck = stuck_alerts(history, settings)
    flagged, zscores = zscore_alerts(flagged, settings)
    candidates = [*threshold_alerts(settings), *zscores, *stuck]
    metrics = settings_metrics(settings)
    scored = with_firings(flagged, candidates).withColumn("_alerts", episode_starts(candidates, settings.episode_gap))
    return scored.select("device_id", "seq", "event_time", *metrics, F.explode("_alerts").alias("a")).select(
        F.concat_ws(":", "device_id", "seq", "a.rule", "a.metric").alias("alert_id"),
        "device_id",
        "seq",
        "event_time",
        F.col("a.metric").alias("metric"),
        F.col("a.rule").alias("rule"),
        F.coalesce(*[F.when(F.col("a.metric") == metric, F.col(metric)) for metric in metrics]).cast("double").alias("value"),
        F.col("a.score").alias("score"),
        F.col("a.limit").alias("limit"),
    )


def settings_metrics(settings: AnomalySettings) -> list[str]:
    return sorted({*settings.thresholds, *settings.zscore_metrics, *settings.stuck_metrics})


def history_of(silver: DataFrame, keys: DataFrame, settings: AnomalySettings) -> DataFrame | None:
    """Silver's readings of each device in `keys` (a batch's device_id, seq, event_time) from
    `history_readings` seqs before the device's first in the batch (within `lookback` of event time when
    set); None for an empty batch. One action: the bounds that let Delta skip files of older readings."""
    firsts = keys.groupBy("device_id").agg(F.min("seq").alias("_first_seq"), F.min("event_time").alias("_first_time"))
    bounds = firsts.agg(F.min("_first_seq").alias("seq"), F.min("_first_time").alias("time")).first()
    if bounds is None or bounds["seq"] is None:
        return None
    depth = settings.history_readings
    history = silver.where(F.col("seq") >= F.lit(bounds["seq"] - depth))
    if settings.lookback is not None:
        history = history.where(F.col("event_time") >= F.lit(bounds["time"] - timedelta(seconds=interval_seconds(settings.lookback))))
    return (
        history.join(F.broadcast(firsts), "device_id")
        .where(F.col("seq") >= F.col("_first_seq") - depth)
        .drop("_first_seq", "_first_time")
    )


def batch_alerts(silver: DataFrame, keys: DataFrame, settings: AnomalySettings) -> DataFrame | None:
    """The alerts on the batch's readings (`keys`), each scored against its device's history in silver."""
    history = history_of(silver, keys, settings)
    if history is None:
        return None
    return score_readings(history, settings).join(keys.select("device_id", "seq").distinct(), ["device_id", "seq"], "left_semi")


class AlertWriter:
    """Scores micro-batches' readings against their history in silver, appends the alerts once per
    batch id and publishes them (at least once; alert_id is the key to dedupe on)."""

    def __init__(self, settings: AnomalySettings, kafka: KafkaSettings, silver_path: str, alerts_path: str, writer: str):
        self.settings, self.kafka, self.silver_path = settings, kafka, silver_path
        self.table = MicroBatchAppender(alerts_path, writer)

    def write(self, keys: DataFrame, batch_id: int) -> None:
        """`keys`: the batch's (device_id, seq, event_time), already in silver; read twice (for the
        history's bounds and for the join)."""
        silver = keys.sparkSession.read.format("delta").load(self.silver_path)
        alerts = batch_alerts(silver, keys, self.settings)
        if alerts is None:
            self.table.append(None, batch_id)
            return
        alerts = alerts.persist()
        try:
            if alerts.isEmpty():
                self.table.append(None, batch_id)
                return
            # Published again when a replayed batch's commit had landed: at least once on the topic.
            self.table.append(alerts.withColumn("detected_at", F.current_timestamp()), batch_id)
            (
                alerts.select(F.col("alert_id").alias("key"), F.to_json(F.struct(*ALERT_COLUMNS)).alias("value"))
                .write.format("kafka")
                .options(**spark_options(self.kafka))
                .option("topic", self.kafka.topics.alerts.name)
                .save()
            )
        finally:
            alerts.unpersist()


def write_alerts_batch(settings: AnomalySettings, kafka: KafkaSettings, silver_path: str, alerts_path: str, app_id: str):
    """foreachBatch writer of the alerts query that reads silver as a stream of its own."""
    alerts = AlertWriter(settings, kafka, silver_path, alerts_path, f"{app_id}:alerts")

    def write(batch: DataFrame, batch_id: int) -> None:
        # Cached: the batch is read once (and counted once in the progress) however often it is used.
        keys = batch.select("device_id", "seq", "event_time").persist()
        try:
            alerts.write(keys, batch_id)
        finally:
            keys.unpersist()

    return write
