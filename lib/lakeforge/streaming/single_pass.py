"""The single-pass micro-batch: the silver query's batch, cached once, is routed to silver and
quarantine, scored for alerts against each device's history, and folded into gold's windows, instead
of gold and alerts each running a query that plans, reads silver and commits on its own.

Each write stays idempotent per batch id (silver, quarantine and alerts: streaming/sink.py; gold: a
recomputation marked with the last silver batch it covered), so a kill at any point loses and
duplicates nothing.
"""

from __future__ import annotations

import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.streaming.anomalies import AlertWriter
from lakeforge.streaming.config import IotConfig, ProcessingTime, interval_seconds
from lakeforge.streaming.gold import WindowRefresher
from lakeforge.streaming.silver import SILVER_BATCH, SilverWriter
from lakeforge.streaming.sink import writer_id
from lakeforge.streaming.tables import IotTables
from lakeforge.tables import delta

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


def committed_readings(spark: SparkSession, silver_path: str, batch_id: int, columns: list[str]) -> pd.DataFrame:
    """The readings silver holds from micro-batch `batch_id`, read back from the table (its files carry
    the batch id in their statistics, so only they are read): the same whether this run or a killed one
    committed them. Taken from the micro-batch instead, an action on them ran the query's
    de-duplication again, and its dropped-rows metric (which the audit reconciles) counted twice."""
    if not delta.exists(spark, silver_path):
        return pd.DataFrame(columns=columns)
    return spark.read.format("delta").load(silver_path).where(F.col(SILVER_BATCH) == batch_id).select(*columns).toPandas()


def write_micro_batch(silver: SilverWriter, alerts: AlertWriter | None, gold: WindowRefresher | None):
    """foreachBatch writer of the silver query: silver first (queryable soonest), then alerts (the
    next latency goal), then gold when its interval has passed."""

    def write(batch: DataFrame, batch_id: int) -> None:
        batch.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            silver.write(batch, batch_id)
            if alerts is not None:
                alerts.write(batch.sparkSession, committed_readings(batch.sparkSession, silver.path, batch_id, alerts.columns), batch_id)
            if gold is not None and gold.due():
                gold.refresh(batch.sparkSession)
        finally:
            batch.unpersist()

    return write
