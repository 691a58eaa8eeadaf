"""Where the IoT pipeline's tables and checkpoints live in the lakehouse."""

from __future__ import annotations

from dataclasses import dataclass

from lakeforge.streaming.config import IotConfig
from lakeforge.tables.layout import Lakehouse


@dataclass(frozen=True)
class IotTables:
    bronze: str
    silver: str
    quarantine: str
    gold: str
    alerts: str
    progress: str
    checkpoints: dict[str, str]  # query -> checkpoint folder; deleting one replays its input
    journal: str  # the folder of the audit's journal (streaming/journal.py), beside the checkpoints

    @classmethod
    def of(cls, config: IotConfig) -> IotTables:
        lake, stream = Lakehouse(config.platform.storage.root), config.stream
        return cls(
            bronze=lake.bronze(stream.bronze_table),
            silver=lake.silver(stream.silver.table),
            quarantine=lake.quarantine(stream.silver.table),
            gold=lake.gold(stream.gold.table),
            alerts=lake.gold(stream.anomalies.table),
            progress=lake.system(stream.progress_table),
            checkpoints={stage: lake.checkpoint(stream.name, stage) for stage in ("bronze", "silver", "gold", "alerts")},
            journal=lake.checkpoint(stream.name),
        )
