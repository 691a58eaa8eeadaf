"""The single-pass micro-batch: the silver query's batch, cached once, is routed to silver and
quarantine, scored for alerts against each device's history, and folded into gold's windows, instead
of gold and alerts each running a query that plans, reads silver and commits on its own.

Each write stays idempotent per batch id (silver, quarantine and alerts: streaming/sink.py; gold: a
recomputation marked with the last silver batch it covered), so a kill at any point loses and
duplicates nothing.
"""

from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import DataFrame

from lakeforge.streaming.anomalies import AlertWriter
from lakeforge.streaming.config import IotConfig, ProcessingTime, interval_seconds
from lakeforge.streaming.gold import WindowRefresher
from lakeforge.streaming.silver import SilverWriter
from lakeforge.streaming.sink import writer_id
from lakeforge.streaming.tables import IotTables

FOLDED = ("gold", "alerts")  # stages a job with silver runs inside silver's micro-batches


def query_stages(stages: list[str]) -> list[str]:
    """The queries a job starts: with silver among its stages, gold and alerts are folded into it; a
    job without silver (another job writes it) runs them as queries of their own."""
    return [stage for stage in stages if "silver" not in stages or stage not in FOLDED]


def window_refresher(config: IotConfig) -> WindowRefresher:
    """Gold refreshed from silver at most once per gold's trigger interval (every batch when availableNow)."""
    gold, tables = config.stream.gold, IotTables.of(config)
    every = interval_seconds(gold.trigger.interval) if isinstance(gold.trigger, ProcessingTime) else 0.0
    return WindowRefresher(gold, tables.silver, tables.gold, writer_id(f"{config.stream.name}.silver", "gold"), every)


def write_micro_batch(silver: SilverWriter, alerts: AlertWriter | None, gold: WindowRefresher | None):
    """foreachBatch writer of the silver query: silver first (queryable soonest), then alerts (the
    next latency goal); gold, when its interval has passed, on a thread beside the next batches."""

    def write(batch: DataFrame, batch_id: int) -> None:
        batch.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            rows = silver.write(batch, batch_id)
            if alerts is not None:
                alerts.write(batch.sparkSession, rows.select(*alerts.columns).toPandas(), batch_id)
            if gold is not None:
                gold.refresh_in_background(batch.sparkSession)
        finally:
            batch.unpersist()

    return write
