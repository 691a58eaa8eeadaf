"""Where the monitoring tables live in the lakehouse."""

from __future__ import annotations

from dataclasses import dataclass

from lakeforge.monitoring.config import MonitoringConfig
from lakeforge.tables.layout import Lakehouse


@dataclass(frozen=True)
class MonitorPaths:
    inferences: str
    labels: str
    drift: str
    prediction: str
    quality: str
    ctr: str
    pipeline: str
    alerts: str
    decisions: str
    audit: str
    stream_progress: str
    iot_windows: str
    iot_alerts: str
    feedback: str | None  # the recommender's silver interactions (impressions, clicks), if monitored

    @classmethod
    def of(cls, config: MonitoringConfig) -> MonitorPaths:
        lake, names = Lakehouse(config.platform.storage.root), config.tables
        system = {name: lake.system(table) for name, table in names.model_dump().items()}
        feedback = lake.silver(config.recommendations.silver_table) if config.recommendations else None
        return cls(**system, iot_windows=lake.gold(config.dashboard.iot_windows), iot_alerts=lake.gold(config.dashboard.iot_alerts), feedback=feedback)

    def monitor(self, name: str) -> str:
        """The table of a monitor named in an alert rule (drift, prediction, quality, pipeline, ctr)."""
        return getattr(self, name)
