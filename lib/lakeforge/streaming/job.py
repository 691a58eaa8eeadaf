"""The IoT streaming job: Kafka -> bronze, and Kafka -> silver -> gold windows and alerts.

Two queries: bronze archives the raw records on a slow trigger; silver's micro-batch also scores
alerts and refreshes gold (streaming/single_pass.py). A job without silver among its stages runs
gold and alerts as queries of their own, reading the silver table as a stream.

Each query has its own checkpoint (offsets and state) and writes idempotently, so killing the job at
any point and starting it again neither loses nor duplicates a row:
- bronze, silver and alerts: foreachBatch appends made once per batch id (streaming/sink.py);
- gold: windows recomputed from silver overwrite their span (a gold query of its own: a MERGE per window).
Bronze's and silver's micro-batches are reconciled in the audit table (streaming/audit.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pyspark.sql import SparkSession
from pyspark.sql.streaming import DataStreamWriter, StreamingQuery

from lakeforge.quality.expectations import ValidationReport
from lakeforge.streaming.anomalies import write_alerts_batch
from lakeforge.streaming.audit import StreamAudit
from lakeforge.streaming.bronze import kafka_records
from lakeforge.streaming.config import AvailableNow, IotConfig, Trigger
from lakeforge.streaming.gold import merge_windows, windowed_stream
from lakeforge.streaming.kafka import ensure_topics
from lakeforge.streaming.progress import ProgressRecorder
from lakeforge.streaming.silver import SilverWriter, refine_telemetry
from lakeforge.streaming.single_pass import FoldedStages, folded_stages, query_stages, write_micro_batch
from lakeforge.streaming.sink import MicroBatchAppender, writer_id
from lakeforge.streaming.tables import IotTables
from lakeforge.tables import delta
from lakeforge.tables.audit import new_run_id

STAGES = ("bronze", "silver", "gold", "alerts")


def with_trigger(writer: DataStreamWriter, trigger: Trigger) -> DataStreamWriter:
    if isinstance(trigger, AvailableNow):
        return writer.trigger(availableNow=True)  # a scheduled catch-up: everything new, then stop
    return writer.trigger(processingTime=trigger.interval)


def start_stage(
    spark: SparkSession,
    config: IotConfig,
    stage: str,
    run_id: str,
    catch_up: bool,
    on_validated: Callable[[ValidationReport], None] = lambda _report: None,
    folded: FoldedStages = FoldedStages(None, None),
) -> StreamingQuery:
    """Start one query; `catch_up` runs it availableNow whatever its configured trigger. on_validated
    receives silver's per-micro-batch GX reports; `folded` scores alerts and refreshes gold from
    silver's micro-batches."""
    stream, tables = config.stream, IotTables.of(config)
    name = f"{stream.name}.{stage}"
    if stage == "bronze":
        bronze = MicroBatchAppender(tables.bronze, writer_id(name, "bronze"))
        writer, trigger = kafka_records(spark, config).writeStream.foreachBatch(bronze.append), stream.bronze_trigger
    elif stage == "silver":
        from_kafka = stream.silver.source == "kafka"
        records = kafka_records(spark, config) if from_kafka else spark.readStream.format("delta").load(tables.bronze)
        silver = SilverWriter(stream.silver, tables.silver, tables.quarantine, name, on_validated)
        refined = refine_telemetry(records, stream.silver, run_id)
        writer, trigger = refined.writeStream.foreachBatch(write_micro_batch(silver, folded)), stream.trigger
    elif stage == "gold":
        windows = windowed_stream(spark.readStream.format("delta").load(tables.silver), stream.gold)
        writer, trigger = windows.writeStream.outputMode("update").foreachBatch(merge_windows(tables.gold)), stream.gold.trigger
    elif stage == "alerts":
        readings = spark.readStream.format("delta").load(tables.silver)
        write = write_alerts_batch(stream.anomalies, config.kafka, tables.silver, tables.alerts, name)
        writer, trigger = readings.writeStream.foreachBatch(write), stream.anomalies.trigger
    else:
        raise ValueError(f"unknown stage '{stage}', expected one of {STAGES}")
    writer = with_trigger(writer, AvailableNow() if catch_up else trigger)
    writer = writer.queryName(name).option("checkpointLocation", tables.checkpoints[stage])  # exactly-once across restarts
    return writer.start()


def stop_between_batches(query: StreamingQuery, timeout: float = 60.0) -> None:
    """Stop once the running micro-batch has committed: stopping mid-batch interrupts its writes (safe,
    the batch is redone from the checkpoint, but it fills the log with stack traces)."""
    deadline = time.monotonic() + timeout
    while query.isActive and query.status["isTriggerActive"] and time.monotonic() < deadline:
        time.sleep(0.1)
    query.stop()


def as_catch_up(config: IotConfig) -> IotConfig:
    """The same job with an availableNow trigger: every stage processes what is new, then stops."""
    return config.model_copy(update={"stream": config.stream.model_copy(update={"trigger": AvailableNow()})})


def _input_ready(spark: SparkSession, config: IotConfig, stage: str) -> bool:
    tables = IotTables.of(config)
    silver_input = tables.bronze if config.stream.silver.source == "bronze" else None
    source = {"silver": silver_input, "gold": tables.silver, "alerts": tables.silver}.get(stage)
    return source is None or delta.exists(spark, source)


def run_stream(
    spark: SparkSession,
    config: IotConfig,
    stop: threading.Event | None = None,
    seconds: float | None = None,
) -> None:
    """Run the job until `stop` is set or `seconds` pass (processing-time trigger), or until every stage
    has caught up (availableNow: the stages run one after the other, each reading what the previous wrote).

    Progress and audit rows are written as it runs and once more at the end, with the error if it failed;
    an audit window that does not reconcile stops the job with ReconciliationError.
    """
    stop = stop or threading.Event()
    ensure_topics(config.kafka)  # a config of one's own reads (and alerts to) topics nobody created yet
    tables, run_id = IotTables.of(config), new_run_id()
    recorder, audit = ProgressRecorder(), StreamAudit(config, run_id)
    audit.recover(spark)  # what a killed run committed but did not record, before new batches come
    for listener in (recorder, audit):
        spark.streams.addListener(listener)
    queries: list[StreamingQuery] = []
    stages = config.stream.stages
    folded = folded_stages(config)  # gold and alerts inside silver's micro-batches
    error: BaseException | None = None
    try:
        if isinstance(config.stream.trigger, AvailableNow):
            for stage in query_stages(stages):
                queries.append(start_stage(spark, config, stage, run_id, catch_up=True, on_validated=audit.add_report, folded=folded))
                queries[-1].awaitTermination()
                recorder.flush(spark, tables.progress)
        else:
            _run_live(spark, config, run_id, queries, stop, seconds, recorder, audit, folded)
    except BaseException as failure:
        error = failure
        raise
    finally:
        for query in queries:
            stop_between_batches(query)
        if error is None:
            audit.wait_for(queries)
            folded.finish(spark)  # the last batch's alerts; gold up to every silver batch
        recorder.flush(spark, tables.progress)
        for listener in (recorder, audit):
            spark.streams.removeListener(listener)
        audit.record(spark, error)


def _run_live(
    spark: SparkSession,
    config: IotConfig,
    run_id: str,
    queries: list[StreamingQuery],
    stop: threading.Event,
    seconds: float | None,
    recorder: ProgressRecorder,
    audit: StreamAudit,
    folded: FoldedStages,
) -> None:
    """Start each stage once its input exists, then watch: flush progress, close audit windows, fail
    when a query stops."""
    tables, pending = IotTables.of(config), query_stages(config.stream.stages)
    deadline = None if seconds is None else time.monotonic() + seconds
    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        # A stage starts once the table it reads exists (a first run creates them in order).
        for stage in [stage for stage in pending if _input_ready(spark, config, stage)]:
            queries.append(start_stage(spark, config, stage, run_id, catch_up=False, on_validated=audit.add_report, folded=folded))
            pending.remove(stage)
        stop.wait(1.0 if pending else config.stream.progress_flush_seconds)
        failed = [query for query in queries if not query.isActive]
        if failed:
            raise RuntimeError(f"streaming query {failed[0].name} stopped: {failed[0].exception()}")
        recorder.flush(spark, tables.progress)
        if audit.due:
            audit.record(spark)
