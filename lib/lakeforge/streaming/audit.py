"""The IoT job in the audit table: bronze's and silver's micro-batches reconciled from independent counts.

Each term comes from a different witness: rows read from Spark's progress of the query (for Kafka, the
offsets between the micro-batch's start and end), rows written and quarantined from the numOutputRows
of the Delta commits the micro-batch made, rows de-duplicated from the state operator's metrics. So
bronze balances only if every offset read reached bronze once, and silver only if every row read was
written, quarantined or dropped by the de-duplication.

The micro-batches of a window (StreamSettings.audit_seconds) are recorded as one audit run
(`<job run id>.<window>`), with the Great Expectations reports of those micro-batches. The open
window is kept in a journal beside the checkpoints (streaming/journal.py): a run killed before it
records the window leaves it there, and the next run records it, as failed, before it starts.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from lakeforge.quality.expectations import ValidationReport
from lakeforge.quality.validations import record_validations
from lakeforge.streaming.config import IotConfig
from lakeforge.streaming.progress import ProgressListener
from lakeforge.streaming.journal import BatchRead, Checkpoint, Journal, JournalFile, Window
from lakeforge.streaming.sink import committed_rows, writer_id
from lakeforge.streaming.tables import IotTables
from lakeforge.tables.audit import LayerCounts, ReconciliationError, Run, read_audit, record_run, utcnow
from lakeforge.tables.layout import Lakehouse

AUDITED = ("bronze", "silver")


def kafka_offsets(offsets: str | dict | None) -> dict[tuple[str, int], int] | None:
    """{(topic, partition): offset} of a Kafka source offset ('{"topic": {"0": 12}}', as text or parsed);
    None for another source's, or for none (a first batch has no start)."""
    document = json.loads(offsets) if isinstance(offsets, str) else offsets
    if not isinstance(document, dict) or not all(isinstance(parts, dict) for parts in document.values()):
        return None
    return {(topic, int(partition)): offset for topic, parts in document.items() for partition, offset in parts.items()}


def offsets_between(start: str | dict | None, end: str | dict | None) -> int | None:
    """Kafka offsets from `start` to `end` (source offsets as JSON); None unless both are Kafka's."""
    first, last = kafka_offsets(start), kafka_offsets(end)
    if first is None or last is None or not first.keys() <= last.keys():
        return None
    return sum(last[partition] - first.get(partition, 0) for partition in last)


def rows_read(progress: dict) -> int:
    """Offsets a Kafka micro-batch covered; the source's row count where offsets do not count rows
    (a Delta source) or the batch has no start (the first batch of a checkpoint)."""
    source = progress["sources"][0]
    offsets = offsets_between(source.get("startOffset"), source.get("endOffset"))
    return int(source["numInputRows"]) if offsets is None else offsets


def read_from_checkpoint(checkpoint: Checkpoint, stage: str, batch_id: int) -> BatchRead:
    """A committed micro-batch whose progress was never seen: its Kafka offsets from the checkpoint (the
    end of the batch before it to its own end); what de-duplication dropped is not known."""
    start = checkpoint.source_offset(batch_id - 1) if batch_id > 0 else checkpoint.initial_offset()
    return BatchRead(stage, batch_id, offsets_between(start, checkpoint.source_offset(batch_id)), None)


def rows_deduplicated(progress: dict) -> int:
    states = progress.get("stateOperators") or []
    return sum(int((state.get("customMetrics") or {}).get("numDroppedDuplicateRows", 0)) + state["numRowsDroppedByWatermark"] for state in states)


class StreamAudit(ProgressListener):
    """Collects the bronze and silver queries' micro-batches (listener callbacks only buffer and
    journal them); `record` reconciles and appends them from the job's own thread. `recover` must run
    before the queries start."""

    def __init__(self, config: IotConfig, run_id: str) -> None:
        self.config, self.tables, self.run_id = config, IotTables.of(config), run_id
        self.queries = {f"{config.stream.name}.{stage}": stage for stage in AUDITED}
        self._batches: list[BatchRead] = []
        self._reports: list[ValidationReport] = []
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        self._failure: RuntimeError | None = None
        self._windows = 0
        self._opened, self._opened_at = utcnow(), time.monotonic()
        self._journal: JournalFile | None = None
        self._closing: list[Window] = []  # windows being recorded
        self._recorded: dict[str, int] = {}  # stage -> last batch id in the audit table

    def on_progress(self, progress: dict) -> None:
        name, batch_id = progress["name"], progress["batchId"]
        if name not in self.queries or not progress.get("sources"):
            return
        try:
            batch = BatchRead(self.queries[name], batch_id, rows_read(progress), rows_deduplicated(progress))
        except Exception as error:  # Spark drops a listener's exceptions: kept, so `record` fails with it
            self._failure = RuntimeError(f"cannot audit {name} batch {batch_id}: {error!r}")
            return
        with self._lock:
            self._batches.append(batch)
            self._seen[name] = batch_id
            self._save_journal()

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

    def recover(self, spark: SparkSession) -> Run | None:
        """Record, as failed, the micro-batches an earlier run committed but did not record (it was
        killed): its windows from the journal, and committed batches the journal never saw."""
        self._journal = JournalFile(spark, self.tables.journal)
        checkpoints = {stage: Checkpoint(spark, self.tables.checkpoints[stage]) for stage in AUDITED}
        journal = self._journal.load()
        if journal is None:  # a new job, or checkpoints older than the journal: nothing known to catch up
            journal = Journal(recorded={stage: max(checkpoint.committed(), default=-1) for stage, checkpoint in checkpoints.items()})
        self._recorded = dict(journal.recorded)
        in_audit = self._in_audit(spark, [window.run_id for window in journal.windows])
        for window in journal.windows:
            if window.run_id in in_audit:  # killed after its audit append, before the journal said so
                self._mark_recorded(window.batches)
        pending = [window for window in journal.windows if window.run_id not in in_audit and window.batches]
        known = {(batch.query, batch.batch_id) for window in pending for batch in window.batches}
        unseen = [
            read_from_checkpoint(checkpoint, stage, batch_id)
            for stage, checkpoint in checkpoints.items()
            for batch_id in checkpoint.committed()
            if batch_id > self._recorded.get(stage, -1) and (stage, batch_id) not in known
        ]
        batches = [batch for window in pending for batch in window.batches] + unseen
        if not batches:
            with self._lock:
                self._save_journal()
            return None
        first = pending[0] if pending else Window(f"{self.run_id}.0", utcnow().isoformat(), [])
        closing = Window(first.run_id, first.opened, batches)
        stopped = RuntimeError(f"the job stopped before it recorded these micro-batches; recorded by run {self.run_id}")
        return self._write(spark, closing, [], stopped)

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
            closing = Window(f"{self.run_id}.{self._windows}", opened.isoformat(), batches)
        run = self._write(spark, closing, reports, error or self._failure)
        if error is None and self._failure is not None:
            raise self._failure
        return run

    def _write(self, spark: SparkSession, window: Window, reports: list[ValidationReport], error: BaseException | None) -> Run:
        """Record `window` as one audit run; the journal keeps it as closing until its rows are in."""
        with self._lock:
            self._closing.append(window)
            self._save_journal()
        run = Run(job=self.config.stream.name, run_id=window.run_id, started_at=datetime.fromisoformat(window.opened))
        inferred: list[str] = []
        for stage in AUDITED:
            stage_batches = [batch for batch in window.batches if batch.query == stage]
            if stage_batches:
                run.layers.append(self._reconcile(spark, stage, stage_batches))
                inferred += [f"{stage} {batch.batch_id}" for batch in stage_batches if batch.rows is None or batch.deduplicated is None]
        if inferred and error is not None:
            error = RuntimeError(
                f"{error}; no progress was seen for micro-batches {', '.join(inferred)}: their rows read come from the "
                "checkpoint's Kafka offsets (none without them) and their rows de-duplicated are what their commits do not account for"
            )
        lakehouse = Lakehouse(self.config.platform.storage.root)
        record_validations(spark, lakehouse, run.run_id, reports)
        try:
            record_run(spark, lakehouse, run, error)
        except ReconciliationError:
            self._closed(window)
            raise
        self._closed(window)
        return run

    def _in_audit(self, spark: SparkSession, run_ids: list[str]) -> set[str]:
        audit = read_audit(spark, Lakehouse(self.config.platform.storage.root))
        return {row["run_id"] for row in audit.where(audit.run_id.isin(run_ids)).select("run_id").distinct().collect()} if run_ids else set()

    def _closed(self, window: Window) -> None:
        """`window` is in the audit table: move each stage's recorded mark past it, journal the rest."""
        with self._lock:
            self._closing.remove(window)
            self._mark_recorded(window.batches)
            self._save_journal()

    def _mark_recorded(self, batches: list[BatchRead]) -> None:
        for batch in batches:
            self._recorded[batch.query] = max(self._recorded.get(batch.query, -1), batch.batch_id)

    def _save_journal(self) -> None:
        """The windows as they stand (called with the lock held)."""
        if self._journal is not None:
            open_window = Window(f"{self.run_id}.{self._windows + 1}", self._opened.isoformat(), list(self._batches))
            self._journal.save(Journal([*self._closing, open_window], dict(self._recorded)))

    def _reconcile(self, spark: SparkSession, stage: str, batches: list[BatchRead]) -> LayerCounts:
        ids, query = {batch.batch_id for batch in batches}, f"{self.config.stream.name}.{stage}"

        def written(path: str, table: str) -> dict[int, int]:
            return committed_rows(spark, path, writer_id(query, table), ids)

        read = sum(batch.rows or 0 for batch in batches)
        if stage == "bronze":
            return LayerCounts(self.config.kafka.topics.telemetry.name, "bronze", read=read, written=sum(written(self.tables.bronze, "bronze").values()))
        silver, quarantine = written(self.tables.silver, "silver"), written(self.tables.quarantine, "quarantine")

        def deduplicated(batch: BatchRead) -> int:
            if batch.deduplicated is not None:
                return batch.deduplicated
            accounted = silver.get(batch.batch_id, 0) + quarantine.get(batch.batch_id, 0)
            return max(0, (batch.rows or 0) - accounted)

        return LayerCounts(
            self.config.stream.silver.table,
            "silver",
            read=read,
            written=sum(silver.values()),
            quarantined=sum(quarantine.values()),
            deduplicated=sum(deduplicated(batch) for batch in batches),
        )
