"""Anomaly detection on silver readings: fixed thresholds, a rolling robust z-score per device and
metric, and stuck sensors, each alerting once per episode; alerts go to a Delta table and the alerts topic."""

from __future__ import annotations

import warnings
from datetime import timedelta
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.streaming.config import AnomalySettings, KafkaSettings, interval_seconds
from lakeforge.streaming.kafka import produce_waiting, reliable_producer
from lakeforge.streaming.silver import SILVER_BATCH
from lakeforge.streaming.sink import MicroBatchAppender
from lakeforge.tables import delta

ALERT_COLUMNS = ["alert_id", "device_id", "seq", "event_time", "metric", "rule", "value", "score", "limit"]


ALERT_SCHEMA = "alert_id string, device_id string, seq bigint, event_time timestamp, metric string, rule string, value double, score double, limit double"


class Candidate(NamedTuple):
    """One rule on one metric, over a device's readings in seq order: where it fires, and the score and
    limit an alert reports."""

    rule: str
    metric: str
    fired: np.ndarray  # bool
    score: np.ndarray
    limit: float


def threshold_alerts(readings: pd.DataFrame, settings: AnomalySettings) -> list[Candidate]:
    alerts = []
    for metric, bounds in settings.thresholds.items():
        value = readings[metric].to_numpy(dtype=float)
        if bounds.max is not None:
            alerts.append(Candidate("threshold_high", metric, value > bounds.max, value, bounds.max))
        if bounds.min is not None:
            alerts.append(Candidate("threshold_low", metric, value < bounds.min, value, bounds.min))
    return alerts


def stuck_alerts(readings: pd.DataFrame, settings: AnomalySettings) -> tuple[dict[str, np.ndarray], list[Candidate]]:
    """A metric that repeats one value `stuck_repeats` readings in a row alerts once, on the reading
    that completes the run. Also returns, per metric, every reading of a stuck run (its first ones
    included, once the readings that complete it are here)."""
    repeats = settings.stuck_repeats
    runs, alerts = {}, []
    for metric in settings.stuck_metrics:
        last = readings[metric].rolling(repeats, min_periods=repeats)
        stuck = (last.min() == last.max()).to_numpy()  # False where the run holds a null
        started = stuck & ~np.concatenate([[False], stuck[:-1]])
        runs[metric] = pd.Series(stuck[::-1]).rolling(repeats, min_periods=1).max().to_numpy()[::-1].astype(bool)
        alerts.append(Candidate("stuck", metric, started, np.full(len(stuck), float(repeats)), float(repeats)))
    return runs, alerts


def zscore_alerts(readings: pd.DataFrame, settings: AnomalySettings, stuck_runs: dict[str, np.ndarray]) -> list[Candidate]:
    """|value - centre| / spread of the device's `history` readings ending `skip_recent` before each
    one, once there are enough (median and 1.4826 MAD, or mean and standard deviation: zscore.method).

    The readings of a stuck run are left out of the history: a flat run's spread is near zero, and the
    first ordinary readings after it would all score far above the threshold.
    """
    zscore, alerts = settings.zscore, []
    for metric in settings.zscore_metrics:
        value = readings[metric].to_numpy(dtype=float)
        kept = np.where(stuck_runs[metric], np.nan, value) if metric in stuck_runs else value
        centre, spread, count = history_spread(kept, zscore.history, zscore.skip_recent, zscore.method)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(spread > 0, np.abs(value - centre) / spread, np.nan)
        fired = (count >= zscore.min_history) & (z >= zscore.threshold)
        alerts.append(Candidate("zscore", metric, fired, z, zscore.threshold))
    return alerts


def history_spread(values: np.ndarray, history: int, skip: int, method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre, spread and size of the `history` values ending `skip` before each value (NaNs left out).

    median_mad: the spread is 1.4826 x the median absolute deviation (the standard deviation, for
    normal noise); where more than half the values sit on the median (a quantised sensor), 1.2533 x
    the mean absolute deviation instead."""
    padded = np.concatenate([np.full(history + skip, np.nan), values])
    windows = np.lib.stride_tricks.sliding_window_view(padded, history)[: len(values)]  # row i: values[i-history-skip : i-skip]
    count = np.count_nonzero(~np.isnan(windows), axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a window of NaNs only: no centre yet
        if method == "mean_std":
            return np.nanmean(windows, axis=1), np.nanstd(windows, axis=1, ddof=1), count
        centre = np.nanmedian(windows, axis=1)
        deviations = np.abs(windows - centre[:, None])
        mad, mean_deviation = np.nanmedian(deviations, axis=1), np.nanmean(deviations, axis=1)
    return centre, np.where(mad > 0, mad * 1.4826, mean_deviation * 1.2533), count


def episode_starts(fired: np.ndarray, gap: int) -> np.ndarray:
    """The readings a rule alerts on: the first of an episode, a run of firing readings that ends after
    `gap` readings without firing (0: every firing reading alerts), so one incident (a level shift, a
    metric out of range for an hour) is one alert."""
    if not gap:
        return fired
    recent = pd.Series(fired, dtype=float).shift(1).rolling(gap, min_periods=1).max().fillna(0).to_numpy()
    return fired & (recent == 0)


def no_alerts() -> pd.DataFrame:
    """An empty frame of alerts, typed: Arrow casts an empty frame's columns to the schema."""
    return pd.DataFrame(columns=ALERT_COLUMNS).astype({"seq": "int64", "event_time": "datetime64[ns]", "value": float, "score": float, "limit": float})


def device_alerts(readings: pd.DataFrame, settings: AnomalySettings) -> pd.DataFrame:
    """Every alert the rules raise on one device's readings."""
    readings = readings.sort_values("seq", ignore_index=True)
    stuck_runs, stuck = stuck_alerts(readings, settings)
    raised = []
    for candidate in [*threshold_alerts(readings, settings), *zscore_alerts(readings, settings, stuck_runs), *stuck]:
        at = episode_starts(candidate.fired, settings.episode_gap)
        if at.any():
            rows = readings.loc[at, ["device_id", "seq", "event_time", candidate.metric]].rename(columns={candidate.metric: "value"})
            raised.append(rows.assign(metric=candidate.metric, rule=candidate.rule, score=candidate.score[at], limit=candidate.limit))
    if not raised:
        return no_alerts()
    alerts = pd.concat(raised, ignore_index=True)
    alerts["alert_id"] = alerts["device_id"] + ":" + alerts["seq"].astype(str) + ":" + alerts["rule"] + ":" + alerts["metric"]
    return alerts[ALERT_COLUMNS]


def score_readings(history: DataFrame, settings: AnomalySettings) -> DataFrame:
    """Every alert the rules raise on `history` (devices' readings), one row each: per device, in one
    pandas pass over its readings in seq order (a dozen rolling rules as Spark window functions took
    over a second per micro-batch of a few thousand readings, mostly per-operator overhead)."""
    metrics = settings_metrics(settings)
    readings = history.select("device_id", "seq", "event_time", *[F.col(metric).cast("double") for metric in metrics])
    return readings.groupBy("device_id").applyInPandas(partial(device_alerts, settings=settings), ALERT_SCHEMA)


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


class RecentReadings:
    """Each device's latest readings, held by the driver between micro-batches: the history the next
    batch is scored against, without reading silver again. A device is loaded from silver the first
    time a batch holds it in this run (so a restart scores exactly as an uninterrupted run), and keeps
    the readings from `history_readings` seqs before its newest on: devices x history_readings rows.
    A reading more than `history_readings` seqs older than its device's newest arrives after its
    history left the driver, and is scored against what is left."""

    def __init__(self, settings: AnomalySettings, silver: Callable[[SparkSession], DataFrame]):
        self.settings, self.silver = settings, silver  # silver: read when a device is loaded
        self.columns = ["device_id", "seq", "event_time", *settings_metrics(settings)]
        self.frame: pd.DataFrame | None = None
        self.known: set[str] = set()

    def alerts(self, spark: SparkSession, batch: pd.DataFrame) -> pd.DataFrame:
        """The alerts on `batch` (readings silver holds: device_id, seq, event_time and the metrics)."""
        if batch.empty:
            return no_alerts()
        self._load_unknown(spark, batch)
        frame = pd.concat([part for part in (self.frame, batch[self.columns]) if part is not None], ignore_index=True)
        frame = frame.drop_duplicates(["device_id", "seq"], keep="last")
        firsts = batch.groupby("device_id").agg(_first=("seq", "min"), _since=("event_time", "min"))
        window = frame.join(firsts, on="device_id", how="inner")
        kept = window["seq"] >= window["_first"] - self.settings.history_readings
        if self.settings.lookback is not None:  # per device: one silent longer starts afresh
            kept &= window["event_time"] >= window["_since"] - pd.Timedelta(seconds=interval_seconds(self.settings.lookback))
        window = window[kept].drop(columns=["_first", "_since"])
        raised = pd.concat([device_alerts(readings, self.settings) for _, readings in window.groupby("device_id", sort=False)], ignore_index=True)
        newest = frame.groupby("device_id")["seq"].transform("max")
        self.frame = frame[frame["seq"] >= newest - self.settings.history_readings]
        return raised.merge(batch[["device_id", "seq"]].drop_duplicates(), on=["device_id", "seq"])

    def _load_unknown(self, spark: SparkSession, batch: pd.DataFrame) -> None:
        unknown = batch[~batch["device_id"].isin(self.known)]
        if unknown.empty:
            return
        keys = spark.createDataFrame(unknown[["device_id", "seq", "event_time"]], "device_id string, seq bigint, event_time timestamp")
        history = history_of(self.silver(spark), keys, self.settings)
        if history is not None:
            loaded = history.select(*self.columns).toPandas()
            self.frame = loaded if self.frame is None else pd.concat([self.frame, loaded], ignore_index=True)
        self.known |= set(unknown["device_id"])


def alert_records(alerts: pd.DataFrame) -> list[tuple[bytes, bytes]]:
    """(key, value) of each alert on the topic: alert_id, and the alert as JSON with event_time in
    ISO 8601 UTC (what Spark's to_json writes)."""
    documents = alerts[ALERT_COLUMNS].assign(event_time=alerts["event_time"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    values = documents.to_json(orient="records", lines=True).splitlines()
    return [(key.encode(), value.encode()) for key, value in zip(documents["alert_id"], values, strict=True)]


class AlertPublisher:
    """Alerts to the alerts topic from the driver, where they already are: no Spark job per batch."""

    def __init__(self, kafka: KafkaSettings):
        self.kafka, self.producer = kafka, None

    def publish(self, alerts: pd.DataFrame, timeout: float = 60.0) -> None:
        """Every alert delivered (acknowledged by the broker) before it returns, or an error."""
        if self.producer is None:
            self.producer = reliable_producer(self.kafka)
        failed = []

        def delivered(error, _message) -> None:
            if error is not None:
                failed.append(error)

        for key, value in alert_records(alerts):
            produce_waiting(self.producer, self.kafka.topics.alerts.name, value, key, delivered)
        pending = self.producer.flush(timeout)
        if failed or pending:
            raise RuntimeError(f"alerts not delivered to {self.kafka.topics.alerts.name}: {pending} pending, errors {failed[:3]}")


class AlertWriter:
    """Scores micro-batches' readings against each device's recent readings, appends the alerts once
    per batch id and publishes them (at least once; alert_id is the key to dedupe on).

    With `silver_batches`, batch ids are silver's own (the single-pass query) and a device's history
    is read from silver's batches up to the one scored: later ones may be committed already while it
    is scored, and must not change its alerts (a stuck run they complete leaves the z-score history
    of every reading in it).
    """

    def __init__(self, settings: AnomalySettings, kafka: KafkaSettings, silver_path: str, alerts_path: str, writer: str, silver_batches: bool = False):
        self.publisher = AlertPublisher(kafka)
        self.silver_path, self.silver_batches = silver_path, silver_batches
        self._scoring: int | None = None  # the silver batch being scored, when silver_batches
        self.recent = RecentReadings(settings, self._silver_so_far)
        self.columns = self.recent.columns
        self.table = MicroBatchAppender(alerts_path, writer)

    def _silver_so_far(self, spark: SparkSession) -> DataFrame:
        silver = spark.read.format("delta").load(self.silver_path)
        return silver if self._scoring is None else silver.where(F.col(SILVER_BATCH) <= self._scoring)

    def write(self, spark: SparkSession, readings: pd.DataFrame, batch_id: int) -> None:
        """`readings`: the batch's rows silver holds (RecentReadings.columns)."""
        self._write(spark, readings, batch_id, self.table)

    def rescore(self, spark: SparkSession, batch_id: int) -> None:
        """Score silver's batch `batch_id` of an earlier run again, read from silver (its alerts may be
        missing): appended unless the alerts table's history has the batch, and without counting as
        the batch before the next one `write` gets, which is checked for a replay as the first batch
        of a run is."""
        if not delta.exists(spark, self.silver_path):
            return
        silver = spark.read.format("delta").load(self.silver_path)
        readings = silver.where(F.col(SILVER_BATCH) == batch_id).select(*self.columns).toPandas()
        self._write(spark, readings, batch_id, MicroBatchAppender(self.table.path, self.table.writer))

    def _write(self, spark: SparkSession, readings: pd.DataFrame, batch_id: int, table: MicroBatchAppender) -> None:
        self._scoring = batch_id if self.silver_batches else None
        raised = self.recent.alerts(spark, readings)
        if raised.empty:
            table.append(None, batch_id)
            return
        alerts = spark.createDataFrame(raised[ALERT_COLUMNS], ALERT_SCHEMA).withColumn("detected_at", F.current_timestamp())
        # Published again when a replayed batch's commit had landed: at least once on the topic.
        table.append(alerts, batch_id)
        self.publisher.publish(raised)


def write_alerts_batch(settings: AnomalySettings, kafka: KafkaSettings, silver_path: str, alerts_path: str, app_id: str):
    """foreachBatch writer of the alerts query that reads silver as a stream of its own."""
    alerts = AlertWriter(settings, kafka, silver_path, alerts_path, f"{app_id}:alerts")

    def write(batch: DataFrame, batch_id: int) -> None:
        alerts.write(batch.sparkSession, batch.select(*alerts.columns).toPandas(), batch_id)

    return write
