"""Bronze -> silver: parse the JSON payload, type and validate it by the YAML rules, drop replays of a
(device_id, seq) within the watermark, and route each row to silver or to quarantine with its reasons.

The rules are batch silver's, applied by the same functions of lakeforge.quality: row-level drop rules
tag each row on the stream; every other rule (warn, fail, table-level) is validated with Great
Expectations on each micro-batch, as batch silver validates each batch it refines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from lakeforge.config.models import ExpectationRule
from lakeforge.pipelines.medallion import METADATA, as_quarantine_rows
from lakeforge.quality.cleansing import CORRUPT_RECORD, cleanse_columns
from lakeforge.quality.expectations import (
    ValidationReport,
    enforce_table_policies,
    is_row_level,
    split_valid_and_quarantined,
    tag_batch_failures,
    tag_rule_failures,
    validate_rules,
)
from lakeforge.quality.failures import FAILED_RULES, RowFailure, is_malformed, quote_value
from lakeforge.streaming.config import SilverSettings
from lakeforge.streaming.sink import MicroBatchAppender, writer_id
from lakeforge.tables import delta

log = logging.getLogger(__name__)

KAFKA_TIMESTAMP = "_kafka_timestamp"
RECORD_KEY = "_record_key"  # the Kafka record's key, checked against the payload (record_key_column)
KEY_MISMATCH = "record_key_mismatch"
SILVER_BATCH = "_silver_batch"  # the silver micro-batch that wrote the row (joins the progress table)
# What silver is read by: gold and alerts take batches after one they covered, a device's readings
# by seq and a span of event time. Statistics of every column made each micro-batch's write tasks
# build a collector over all of them.
SILVER_STATS_COLUMNS = ["device_id", "seq", "event_time", SILVER_BATCH]


def with_kafka_metadata(run_id: str) -> Callable[[DataFrame], DataFrame]:
    """The payload as text plus the lineage columns silver and quarantine rows carry."""

    def transform(bronze: DataFrame) -> DataFrame:
        return bronze.select(
            F.col("value").cast("string").alias("_payload"),
            F.lit("kafka").alias("_source"),
            F.concat_ws("/", "topic", "partition", "offset").alias("_source_ref"),
            F.lit(run_id).alias("_run_id"),
            "_ingested_at",
            F.col("kafka_timestamp").alias(KAFKA_TIMESTAMP),
            F.col("device_key").alias(RECORD_KEY),
        )

    return transform


def parse_payload(fields: list[str]) -> Callable[[DataFrame], DataFrame]:
    """JSON fields as raw text (typed later by the column rules, which record cast failures); text that
    is not a JSON object keeps its value in _corrupt_record."""
    schema = StructType([StructField(name, StringType()) for name in fields] + [StructField(CORRUPT_RECORD, StringType())])

    def transform(df: DataFrame) -> DataFrame:
        parsed = F.from_json("_payload", schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_RECORD})
        return df.select(
            "*",
            *[parsed[name].alias(name) for name in fields],
            parsed[CORRUPT_RECORD].alias(CORRUPT_RECORD),
            F.struct(F.col("_payload").alias("payload")).alias("_raw"),  # what a quarantined row shows
        ).drop("_payload")

    return transform


def record_key_failures(column: str | None) -> list[RowFailure]:
    """A row whose Kafka record key is set and differs from the payload's `column` fails (None: no check)."""
    if column is None:
        return []
    mismatch = F.col(RECORD_KEY).isNotNull() & F.col(column).isNotNull() & (F.col(RECORD_KEY) != F.col(column))
    detail = F.concat(F.lit("record key "), quote_value(F.col(RECORD_KEY)), F.lit(f" is not the {column} "), quote_value(F.col(column)))
    return [RowFailure(KEY_MISMATCH, mismatch, detail)]


def drop_replays(watermark: str) -> Callable[[DataFrame], DataFrame]:
    """Keep the first arrival of each (device_id, seq) seen within `watermark` of event time.

    Only rows that passed the row rules claim their (device_id, seq): a rejected reading (unkeyed, out
    of range, sent under another device's key) keeps a key of its own, its Kafka position, so it reaches
    quarantine and never displaces a valid reading of that key, whichever a micro-batch sees first.
    Rows older than the watermark are dropped by Spark and counted in the progress table
    (rows_dropped_by_watermark).
    """

    def transform(df: DataFrame) -> DataFrame:
        keyed = F.col("device_id").isNotNull() & F.col("seq").isNotNull() & (F.size(FAILED_RULES) == 0)
        return (
            df.withColumn("_dedupe_key", F.when(keyed, F.concat_ws("/", "device_id", "seq")).otherwise(F.concat(F.lit("kafka:"), "_source_ref")))
            .withColumn("_event_time", F.coalesce("event_time", KAFKA_TIMESTAMP))
            .withWatermark("_event_time", watermark)
            .dropDuplicatesWithinWatermark(["_dedupe_key"])
        )

    return transform


def refine_telemetry(bronze: DataFrame, settings: SilverSettings, run_id: str) -> DataFrame:
    """The silver stream before routing: typed columns, _failed_rules/_failure_details, no replays."""
    return (
        bronze.transform(with_kafka_metadata(run_id))
        .transform(parse_payload(list(settings.columns)))
        .transform(cleanse_columns(settings.columns))
        .transform(tag_rule_failures(settings.expectations, record_key_failures(settings.record_key_column)))
        .transform(drop_replays(settings.watermark))
    )


def silver_columns(settings: SilverSettings) -> list[str]:
    return [*settings.columns, *METADATA, KAFKA_TIMESTAMP]


def micro_batch_rules(rules: list[ExpectationRule]) -> list[ExpectationRule]:
    """The rules that judge a micro-batch as a whole: warn, fail and table-level rules. Row-level drop
    rules are left out: tag_rule_failures has already sent their rows to quarantine."""
    return [rule for rule in rules if rule.policy != "drop" or not is_row_level(rule)]


def judge_micro_batch(batch: DataFrame, settings: SilverSettings, on_validated: Callable[[ValidationReport], None]) -> DataFrame:
    """`batch` with the failures of its table-level drop rules on every row, after validating
    the parsed rows; raises ExpectationFailedError when a fail rule breaks (the query stops, and the
    micro-batch, committed nowhere, is redone on restart); logs failed warn rules.

    A stream whose rules are all row-level drop rules runs no validation (nothing to decide).
    """
    rules = micro_batch_rules(settings.expectations)
    if not rules or batch.isEmpty():
        return batch
    suite = f"silver.{settings.table}"
    report = validate_rules(batch.where(~is_malformed(batch)).select(*settings.columns), rules, suite_name=suite)
    on_validated(report)
    outcome = enforce_table_policies(report, rules)
    for warning in outcome.warnings:
        log.warning("%s: %s", suite, warning)
    return batch.transform(tag_batch_failures(outcome))


@dataclass(frozen=True)
class SilverAppend:
    """A micro-batch's silver rows, whether this call appended them (False: an earlier run had, this
    is its replay), and the event-time span of what it appended in epoch microseconds (None: no rows or
    not appended), counted in the append's own pass."""

    rows: DataFrame
    appended: bool
    event_micros: tuple[int, int] | None


class SilverWriter:
    """Valid rows of a micro-batch to silver, the rest to quarantine, each table's append made once per
    batch id, so a batch replayed after a crash commits nothing twice. on_validated receives each
    micro-batch's GX report (see judge_micro_batch)."""

    def __init__(
        self,
        settings: SilverSettings,
        silver_path: str,
        quarantine_path: str,
        app_id: str,
        on_validated: Callable[[ValidationReport], None] = lambda _report: None,
    ):
        self.settings, self.quarantine_path, self.on_validated = settings, quarantine_path, on_validated
        self.silver = MicroBatchAppender(silver_path, writer_id(app_id, "silver"), SILVER_STATS_COLUMNS)
        self.quarantine = MicroBatchAppender(quarantine_path, writer_id(app_id, "quarantine"))
        self._quarantine_exists = False  # until it does, a batch with nothing rejected still creates it: readers get 0 rows, not an error

    def write(self, batch: DataFrame, batch_id: int) -> SilverAppend:
        """Route `batch` (materialised by the caller: it is read several times)."""
        judged = judge_micro_batch(batch, self.settings, self.on_validated)
        # The silver append's pass over the batch also counts what quarantine gets and the span of event
        # time it appends: no job of its own.
        counted = Observation(f"{self.silver.writer}@{batch_id}")
        passed = F.size(FAILED_RULES) == 0
        valid, _ = split_valid_and_quarantined(
            judged.observe(
                counted,
                F.count_if(~passed).alias("rejected"),
                F.unix_micros(F.min(F.when(passed, F.col("event_time")))).alias("first_event"),
                F.unix_micros(F.max(F.when(passed, F.col("event_time")))).alias("last_event"),
            )
        )
        _, rejected = split_valid_and_quarantined(judged)
        rows = valid.select(*silver_columns(self.settings)).withColumn(SILVER_BATCH, F.lit(batch_id).cast("bigint"))
        written = self.silver.append(rows, batch_id)
        observed = counted.get if written else {}
        rejected_count = observed["rejected"] if written else rejected.count()  # a replay of a committed batch appends nothing
        self._quarantine_exists = self._quarantine_exists or delta.exists(batch.sparkSession, self.quarantine_path)
        empty = rejected_count == 0 and self._quarantine_exists
        self.quarantine.append(None if empty else as_quarantine_rows(rejected, self.settings.table), batch_id)
        self._quarantine_exists = True
        span = (observed["first_event"], observed["last_event"]) if observed.get("first_event") is not None else None
        return SilverAppend(rows, written, span)
