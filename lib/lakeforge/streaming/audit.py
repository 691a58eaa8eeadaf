"""The IoT job in the audit table: bronze's and silver's micro-batches reconciled from independent counts.

Each term comes from a different witness: rows read from Spark's progress of the query (for Kafka, the
offsets between the micro-batch's start and end), rows written and quarantined from the numOutputRows
of the Delta commits the micro-batch made, rows de-duplicated from the state operator's metrics. So
bronze balances only if every offset read reached bronze once, and silver only if every row read was
written, quarantined or dropped by the de-duplication.

The micro-batches of a window (StreamSettings.audit_seconds) are recorded as one audit run
(`<job run id>.<window>`), with the Great Expectations reports of those micro-batches.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery, StreamingQueryListener

from lakeforge.quality.expectations import ValidationReport
from lakeforge.quality.validations import record_validations
from lakeforge.streaming.config import IotConfig
from lakeforge.streaming.sink import committed_rows, writer_id
from lakeforge.streaming.tables import IotTables
from lakeforge.tables.audit import LayerCounts, Run, record_run, utcnow
from lakeforge.tables.layout import Lakehouse


@dataclass(frozen=True)
class BatchRead:
    """What one micro-batch of a query read, as Spark's progress reports it (not as its writer saw it)."""

    query: str
    batch_id: int
    rows: int  # Kafka: offsets between start and end; other sources: the rows the source returned
    deduplicated: int  # dropped by de-duplication: replays, and rows older than its watermark


def kafka_offsets(offsets: str | None) -> dict[tuple[str, int], int] | None:
    """{(topic, partition): offset} of a Kafka source offset ('{"topic": {"0": 12}}'); None for another
    source's, or for none (PySpark hands a first batch's missing start over as the text 'None')."""
    document = json.loads(offsets) if offsets and offsets != "None" else None
    if not isinstance(document, dict) or not all(isinstance(parts, dict) for parts in document.values()):
        return None
    return {(topic, int(partition)): offset for topic, parts in document.items() for partition, offset in parts.items()}


def rows_read(progress) -> int:
    """Offsets a Kafka micro-batch covered; the source's row count where offsets do not count rows
    (a Delta source) or the batch has no start (the first batch of a checkpoint)."""
    source = progress.sources[0]
    start, end = kafka_offsets(source.startOffset), kafka_offsets(source.endOffset)
    if start is None or end is None or not start.keys() <= end.keys():
        return int(source.numInputRows)
    return sum(end[partition] - start.get(partition, 0) for partition in end)


def rows_deduplicated(progress) -> int:
    states = progress.stateOperators or []
    return sum(int((state.customMetrics or {}).get("numDroppedDuplicateRows", 0)) + state.numRowsDroppedByWatermark for state in states)


class StreamAudit(StreamingQueryListener):
    """Collects the bronze and silver queries' micro-batches (listener callbacks only buffer); `record`
    reconciles and appends them from the job's own thread."""

    def __init__(self, config: IotConfig, run_id: str) -> None:
        self.config, self.tables, self.run_id = config, IotTables.of(config), run_id
        self.queries = {f"{config.stream.name}.{stage}": stage for stage in ("bronze", "silver")}
        self._batches: list[BatchRead] = []
        self._reports: list[ValidationReport] = []
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        self._failure: RuntimeError | None = None
        self._windows = 0
        self._opened, self._opened_at = utcnow(), time.monotonic()

    def onQueryStarted(self, event) -> None:
        pass

    def onQueryProgress(self, event) -> None:
        progress = event.progress
        if progress.name not in self.queries or not progress.sources:
            return
        try:
            batch = BatchRead(self.queries[progress.name], progress.batchId, rows_read(progress), rows_deduplicated(progress))
        except Exception as error:  # Spark drops a listener's exceptions: kept, so `record` fails with it
            self._failure = RuntimeError(f"cannot audit {progress.name} batch {progress.batchId}: {error!r}")
            return
        with self._lock:
            self._batches.append(batch)
            self._seen[progress.name] = progress.batchId

    def onQueryIdle(self, event) -> None:
        pass

    def onQueryTerminated(self, event) -> None:
        pass

    def add_report(self, report: ValidationReport) -> None:
        """A micro-batch's GX report (silver's on_validated), recorded with the window."""
        with self._lock:
            self._reports.append(report)

    @property
    def due(self) -> bool:
        return time.monotonic() - self._opened_at >= self.config.stream.audit_seconds

    def wait_for(self, queries: list[StreamingQuery], timeout: float = 30.0) -> None:
        """Wait until the listener has seen the last batch of each audited query (events come late)."""
        last = {query.name: query.lastProgress.batchId for query in queries if query.name in self.queries and query.lastProgress}
        deadline = time.monotonic() + timeout
        while any(self._seen.get(name, -1) < batch for name, batch in last.items()) and time.monotonic() < deadline:
            time.sleep(0.1)

    def record(self, spark: SparkSession, error: BaseException | None = None) -> Run | None:
        """Append the window's audit rows (and GX results); raises ReconciliationError, after appending,
        if a layer does not balance. A window without micro-batches records nothing unless `error`."""
        with self._lock:
            batches, self._batches = self._batches, []
            reports, self._reports = self._reports, []
        opened, self._opened, self._opened_at = self._opened, utcnow(), time.monotonic()
        if not batches and error is None and self._failure is None:
            return None
        self._windows += 1
        run = Run(job=self.config.stream.name, run_id=f"{self.run_id}.{self._windows}", started_at=opened)
        for stage in ("bronze", "silver"):
            stage_batches = [batch for batch in batches if batch.query == stage]
            if stage_batches:
                run.layers.append(self._reconcile(spark, stage, stage_batches))
        lakehouse = Lakehouse(self.config.platform.storage.root)
        record_validations(spark, lakehouse, run.run_id, reports)
        record_run(spark, lakehouse, run, error or self._failure)
        if error is None and self._failure is not None:
            raise self._failure
        return run

    def _reconcile(self, spark: SparkSession, stage: str, batches: list[BatchRead]) -> LayerCounts:
        ids, query = {batch.batch_id for batch in batches}, f"{self.config.stream.name}.{stage}"

        def written(path: str, table: str) -> int:
            return sum(committed_rows(spark, path, writer_id(query, table), ids).values())

        read = sum(batch.rows for batch in batches)
        if stage == "bronze":
            return LayerCounts(self.config.kafka.topics.telemetry.name, "bronze", read=read, written=written(self.tables.bronze, "bronze"))
        return LayerCounts(
            self.config.stream.silver.table,
            "silver",
            read=read,
            written=written(self.tables.silver, "silver"),
            quarantined=written(self.tables.quarantine, "quarantine"),
            deduplicated=sum(batch.deduplicated for batch in batches),
        )
