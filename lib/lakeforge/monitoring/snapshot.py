"""What the dashboard shows, read from the Delta tables on each poll: the newest IoT device windows and
alerts, model quality and drift per window, and pipeline freshness."""

from __future__ import annotations

import math
import threading
from datetime import datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.monitoring.config import MonitoringConfig
from lakeforge.monitoring.paths import MonitorPaths
from lakeforge.tables import delta


def plain(value):
    """JSON-ready: timestamps as ISO text, non-finite numbers as null."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def records(frame: DataFrame) -> list[dict]:
    return [{key: plain(value) for key, value in row.asDict().items()} for row in frame.collect()]


class Snapshots:
    """Reads the tables with one Spark session; polls from several browsers take turns."""

    def __init__(self, spark: SparkSession, config: MonitoringConfig):
        self.spark, self.paths, self.rows = spark, MonitorPaths.of(config), config.dashboard.rows
        self._lock = threading.Lock()

    def table(self, path: str) -> DataFrame | None:
        return self.spark.read.format("delta").load(path) if delta.exists(self.spark, path) else None

    def iot_windows(self) -> dict:
        """The newest windows of the first measured metric's mean, per device."""
        windows = self.table(self.paths.iot_windows)
        metric = next((c for c in windows.columns if c.endswith("_mean")), None) if windows is not None else None
        if metric is None:
            return {"metric": None, "rows": []}
        newest = windows.orderBy(F.desc("window_start")).limit(self.rows)
        return {"metric": metric, "rows": records(newest.select("device_id", "window_start", F.col(metric).alias("value")).orderBy("window_start"))}

    def iot_alerts(self) -> list[dict]:
        alerts = self.table(self.paths.iot_alerts)
        if alerts is None:
            return []
        return records(alerts.orderBy(F.desc("event_time")).limit(50).select("alert_id", "device_id", "event_time", "metric", "rule", "value"))

    def model(self) -> dict:
        quality, drift = self.table(self.paths.quality), self.table(self.paths.drift)
        return {
            "quality": records(quality.orderBy("window_start").limit(self.rows)) if quality is not None else [],
            "drift": records(drift.select("window_start", "model_version", "feature", "psi", "ks", "js").orderBy("window_start").limit(self.rows * 20))
            if drift is not None else [],
        }

    def freshness(self) -> list[dict]:
        pipeline = self.table(self.paths.pipeline)
        if pipeline is None:
            return []
        latest = pipeline.where(F.col("check") == "freshness").groupBy("subject").agg(F.max_by(F.struct("value", "limit", "usage", "detail"), "checked_at").alias("l"))
        return records(latest.select("subject", "l.*").orderBy("subject"))

    def monitoring_alerts(self) -> list[dict]:
        alerts = self.table(self.paths.alerts)
        return records(alerts.orderBy(F.desc("raised_at")).limit(50).select("raised_at", "severity", "message")) if alerts is not None else []

    def snapshot(self) -> dict:
        with self._lock:
            return {"iot_windows": self.iot_windows(), "iot_alerts": self.iot_alerts(), **self.model(),
                    "freshness": self.freshness(), "alerts": self.monitoring_alerts()}
