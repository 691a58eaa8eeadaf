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
    pipeline: str
    alerts: str
    decisions: str
    audit: str
    stream_progress: str
    iot_windows: str
    iot_alerts: str

    @classmethod
    def of(cls, config: MonitoringConfig) -> MonitorPaths:
        lake, names = Lakehouse(config.platform.storage.root), config.tables
        system = {name: lake.system(table) for name, table in names.model_dump().items()}
        return cls(**system, iot_windows=lake.gold(config.dashboard.iot_windows), iot_alerts=lake.gold(config.dashboard.iot_alerts))

    def monitor(self, name: str) -> str:
        """The table of a monitor named in an alert rule (drift, prediction, quality, pipeline)."""
        return getattr(self, name)
