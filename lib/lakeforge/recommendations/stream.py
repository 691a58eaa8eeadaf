"""The recommender's stream job: the interactions topic -> bronze (raw records), silver (typed, new event
ids only), quarantine, gold statistics; the service's inference records -> the inference log (a record
that is not one -> quarantine). One audit entry per micro-batch.

Exactly once across restarts: the checkpoint replays the batch a killed run was in; each Delta append
is made once per batch id (streaming.sink.MicroBatchAppender), silver also skips event ids it holds,
and gold is recomputed from silver for the keys a batch touched.
"""

from __future__ import annotations

import threading
import time

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from lakeforge.quality.cleansing import CORRUPT_RECORD
from lakeforge.recommendations.config import RecsConfig
from lakeforge.recommendations.gold import refresh_gold
from lakeforge.recommendations.interactions import RAW_COLUMNS, count_routed, refine, route
from lakeforge.recommendations.tables import RecsTables
from lakeforge.recommendations.topic import ensure_recs_topics
from lakeforge.streaming.job import stop_between_batches
from lakeforge.streaming.kafka import spark_options
from lakeforge.streaming.sink import MicroBatchAppender, committed_rows
from lakeforge.tables import delta
from lakeforge.tables.audit import Run, record_run
from lakeforge.tables.inference import INFERENCE_SCHEMA, MALFORMED, POSITION, RECORD_TEXT, conform, parsed_inferences

JOB = "recs.stream"
RAW_SCHEMA = StructType([StructField(name, StringType()) for name in RAW_COLUMNS] + [StructField(CORRUPT_RECORD, StringType())])


def read_topic(spark: SparkSession, config: RecsConfig) -> DataFrame:
    """The interactions (and inferences) topics as one stream; the checkpoint, not a consumer group,
    tracks the offsets. A topic added to a running job's subscription is read from its start."""
    kafka = config.kafka
    topics = [kafka.interactions.name, *([kafka.inferences.name] if kafka.inferences else [])]
    return (
        spark.readStream.format("kafka")
        .options(**spark_options(kafka))
        .option("subscribe", ",".join(topics))
        .option("startingOffsets", config.stream.starting_offsets)
        .option("maxOffsetsPerTrigger", config.stream.max_offsets_per_trigger)  # bounds a catch-up batch
        .option("failOnDataLoss", "true")  # offsets gone from Kafka would be a silent gap
        .load()
    )


def as_bronze(records: DataFrame) -> DataFrame:
    return records.select(
        F.col("key").cast("string").alias("user_key"),
        F.col("value").cast("string").alias("payload"),
        "topic",
        "partition",
        "offset",
        F.col("timestamp").alias("kafka_timestamp"),
        F.current_timestamp().alias("_ingested_at"),
    )


def as_raw_interactions(run_id: str):
    """Bronze rows as raw interaction text; a payload that is not a JSON object keeps its text in
    _corrupt_record (quarantined as malformed_record)."""

    def transform(bronze: DataFrame) -> DataFrame:
        parsed = F.from_json("payload", RAW_SCHEMA, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_RECORD})
        return bronze.select(
            *[parsed[name].alias(name) for name in RAW_COLUMNS],
            parsed[CORRUPT_RECORD].alias(CORRUPT_RECORD),
            F.lit("kafka").alias("_source"),
            F.concat_ws("/", "topic", "partition", "offset").alias("_source_ref"),
            F.lit(run_id).alias("_run_id"),
            "_ingested_at",
        )

    return transform


def as_inference_quarantine(run_id: str, table: str):
    """Parsed inference records that are not complete records, as quarantine rows (the source reference
    names the Kafka record and the position in its array)."""

    def transform(parsed: DataFrame) -> DataFrame:
        return parsed.select(
            F.lit(table).alias("_table"), F.array(F.lit("malformed_record")).alias("_reasons"),
            F.array(F.lit("not an array of inference records with every required field")).alias("_details"),
            F.col(RECORD_TEXT).alias("_raw_record"), F.lit("kafka").alias("_source"),
            F.concat_ws("/", "topic", "partition", "offset", POSITION).alias("_source_ref"), F.lit(run_id).alias("_run_id"),
            "_ingested_at", F.current_timestamp().alias("_quarantined_at"),
        )

    return transform


class InteractionsBatchWriter:
    """foreachBatch writer of one query run."""

    def __init__(self, spark: SparkSession, config: RecsConfig) -> None:
        self.spark, self.config, self.tables = spark, config, RecsTables.of(config)
        name = config.stream.name
        self.bronze = MicroBatchAppender(self.tables.bronze, f"{name}:bronze")
        self.silver = MicroBatchAppender(self.tables.silver, f"{name}:silver")
        self.quarantine = MicroBatchAppender(self.tables.quarantine, f"{name}:quarantine")
        self.inferences = MicroBatchAppender(self.tables.inference_log, f"{name}:inference_log")
        self.inference_quarantine = MicroBatchAppender(self.tables.quarantine, f"{name}:quarantine-inferences")

    def __call__(self, records: DataFrame, batch_id: int) -> None:
        received = records.transform(as_bronze).persist(StorageLevel.MEMORY_AND_DISK)
        run = Run(job=JOB)
        try:
            per_topic = {row["topic"]: row["count"] for row in received.groupBy("topic").count().collect()}
            if not per_topic:
                return
            kafka = self.config.kafka
            interactions = F.col("topic") == kafka.interactions.name
            self._write(received.where(interactions), per_topic.get(kafka.interactions.name, 0), batch_id, run)
            if kafka.inferences is not None:
                self._write_inferences(received.where(~interactions), per_topic.get(kafka.inferences.name, 0), batch_id, run)
        except Exception as error:
            record_run(self.spark, self.tables.lakehouse, run, error)
            raise
        finally:
            received.unpersist()
        record_run(self.spark, self.tables.lakehouse, run)

    def _write_inferences(self, received: DataFrame, messages: int, batch_id: int, run: Run) -> None:
        """Each message is an array of records: read counts records (a message that is not an array, one)."""
        counts = run.layer("inference_log", "system")
        if not messages:
            return
        parsed = received.transform(parsed_inferences("payload")).persist(StorageLevel.MEMORY_AND_DISK)
        counts.read = parsed.count()
        self.inferences.append(conform(parsed.where(~F.col(MALFORMED)), INFERENCE_SCHEMA), batch_id)
        counts.written = self.committed(self.inferences, batch_id)
        malformed = parsed.where(F.col(MALFORMED))
        self.inference_quarantine.append(None if malformed.isEmpty() else malformed.transform(as_inference_quarantine(run.run_id, self.config.tables.inference_log)), batch_id)
        counts.quarantined = self.committed(self.inference_quarantine, batch_id)
        parsed.unpersist()

    def _write(self, bronze: DataFrame, rows: int, batch_id: int, run: Run) -> None:
        counts = run.layer("interactions", "bronze")
        counts.read = rows
        if not rows:
            return
        self.bronze.append(bronze, batch_id)
        counts.written = self.committed(self.bronze, batch_id)
        typed = bronze.transform(as_raw_interactions(run.run_id)).transform(refine(self.config.silver)).persist(StorageLevel.MEMORY_AND_DISK)
        known = self.spark.read.format("delta").load(self.tables.silver) if delta.exists(self.spark, self.tables.silver) else None
        routed = route(typed, self.config.silver, self.config.tables.interactions, known)
        fresh = routed.silver.persist(StorageLevel.MEMORY_AND_DISK)
        silver = run.layer("interactions", "silver")
        fresh_rows = count_routed(typed, routed, fresh, silver)
        valid_rows = silver.deduplicated + fresh_rows
        wrote_now = self.silver.append(fresh if fresh_rows else None, batch_id)
        silver.written = silver.inserted = self.committed(self.silver, batch_id)
        if not wrote_now:  # a replay: `fresh` is empty (silver holds the batch), its rows are the earlier commit's
            silver.deduplicated = valid_rows - silver.written
        self.quarantine.append(None if routed.quarantine.isEmpty() else routed.quarantine, batch_id)
        silver.quarantined = self.committed(self.quarantine, batch_id)
        # From the batch's valid rows, not `fresh`: fresh is computed against silver, so once silver
        # holds the batch (after this append, or before a restart replayed it) it comes out empty.
        if valid_rows:
            refresh_gold(self.spark, self.tables, routed.valid, self.config.stream.window, self.config.als.event_weights)
        fresh.unpersist()
        typed.unpersist()

    def committed(self, appender: MicroBatchAppender, batch_id: int) -> int:
        """The rows Delta committed for the batch, also when the commit was made before a restart."""
        return committed_rows(self.spark, appender.path, appender.writer, {batch_id}).get(batch_id, 0)


def run_interactions_stream(
    spark: SparkSession,
    config: RecsConfig,
    stop: threading.Event | None = None,
    seconds: float | None = None,
    available_now: bool = False,
) -> None:
    """Run until `stop` is set or `seconds` pass; available_now: process what the topic holds, then stop."""
    ensure_recs_topics(config.kafka)
    writer = read_topic(spark, config).writeStream.foreachBatch(InteractionsBatchWriter(spark, config))
    writer = writer.trigger(availableNow=True) if available_now else writer.trigger(processingTime=config.stream.trigger_interval)
    query = writer.queryName(f"{config.stream.name}.interactions").option("checkpointLocation", RecsTables.of(config).checkpoint).start()  # exactly-once across restarts
    if available_now:
        query.awaitTermination()
        return
    stop = stop or threading.Event()
    deadline = None if seconds is None else time.monotonic() + seconds
    while not stop.is_set() and query.isActive and (deadline is None or time.monotonic() < deadline):
        stop.wait(1.0)
    if not query.isActive and query.exception() is not None:
        raise RuntimeError(f"streaming query {query.name} stopped: {query.exception()}")
    stop_between_batches(query)
