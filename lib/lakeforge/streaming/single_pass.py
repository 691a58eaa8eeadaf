"""The single-pass micro-batch: the silver query's batch, cached once, is routed to silver and
quarantine, scored for alerts against each device's history, and folded into gold's windows, instead
of gold and alerts each running a query that plans, reads silver and commits on its own.

Silver's commit comes first (queryable soonest). Alerts of micro-batch N are scored on a thread of
their own beside micro-batch N+1, and gold is refreshed beside both, so neither holds up the next
batch's silver. Each write stays idempotent per batch id (silver, quarantine and alerts:
streaming/sink.py; gold: a recomputation marked with the last silver batch it covered), so a kill at
any point loses and duplicates nothing.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

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


class OverlappedAlerts:
    """Alerts of silver's micro-batch N scored, appended and published on a thread of their own while
    micro-batch N+1 writes silver.

    Micro-batch N+1 returns only once N's alerts are done, so when Spark commits N+1's offsets every
    batch before it has its alerts: a kill leaves at most the last committed batch unscored. The first
    micro-batch of a run therefore scores the batch before it again, from silver: its alerts are
    appended unless that batch's commit is there already.
    """

    def __init__(self, writer: AlertWriter):
        self.writer = writer
        self.columns = writer.columns
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alerts")
        self._running: Future | None = None
        self._recovered = False

    def submit(self, spark: SparkSession, readings: pd.DataFrame, batch_id: int) -> None:
        """Score `readings` (micro-batch `batch_id`'s silver rows) once the batch before is done; an
        error of the batch before raises here, in the query's thread, so this batch is not committed."""
        self.finish()
        if not self._recovered:
            self._recovered = True
            if batch_id > 0:
                self.writer.rescore(spark, batch_id - 1)
        self._running = self._pool.submit(self.writer.write, spark, readings, batch_id)

    def finish(self) -> None:
        """Wait for the batch being scored (the job is stopping, or the next batch needs it done)."""
        running, self._running = self._running, None
        if running is not None:
            running.result()


@dataclass
class FoldedStages:
    """Gold and alerts as silver's micro-batches run them; None: the stage is not among the job's."""

    alerts: OverlappedAlerts | None
    gold: WindowRefresher | None

    def finish(self, spark: SparkSession) -> None:
        """The job is stopping: the last batch's alerts, then gold up to every silver batch."""
        if self.alerts is not None:
            self.alerts.finish()
        if self.gold is not None:
            self.gold.finish(spark)


def folded_stages(config: IotConfig) -> FoldedStages:
    """Gold refreshed from silver at most once per gold's trigger interval (every batch when
    availableNow), and alerts scored beside the next batch; both only for a job that runs silver."""
    stream, tables = config.stream, IotTables.of(config)
    if "silver" not in stream.stages:
        return FoldedStages(None, None)
    silver = f"{stream.name}.silver"
    gold = None
    if "gold" in stream.stages:
        every = interval_seconds(stream.gold.trigger.interval) if isinstance(stream.gold.trigger, ProcessingTime) else 0.0
        gold = WindowRefresher(stream.gold, tables.silver, tables.gold, writer_id(silver, "gold"), every)
    alerts = None
    if "alerts" in stream.stages:
        writer = AlertWriter(stream.anomalies, config.kafka, tables.silver, tables.alerts, writer_id(silver, "alerts"), silver_batches=True)
        alerts = OverlappedAlerts(writer)
    return FoldedStages(alerts, gold)


def write_micro_batch(silver: SilverWriter, folded: FoldedStages):
    """foreachBatch writer of the silver query: silver first (queryable soonest), then its readings
    handed to the alerts thread and its event-time span to gold; gold, when its interval has passed,
    on a thread of its own."""

    def write(batch: DataFrame, batch_id: int) -> None:
        batch.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            appended = silver.write(batch, batch_id)
            if folded.alerts is not None:
                folded.alerts.submit(batch.sparkSession, appended.rows.select(*folded.alerts.columns).toPandas(), batch_id)
            if folded.gold is not None:
                folded.gold.appended(batch_id, appended.event_micros, observed=appended.appended)
                folded.gold.refresh_in_background(batch.sparkSession)
        finally:
            batch.unpersist()

    return write
