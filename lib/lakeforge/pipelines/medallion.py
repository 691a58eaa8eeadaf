"""Bronze -> silver for one batch of one source: cleanse, validate, quarantine, dedupe, upsert."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.config.models import SilverTable
from lakeforge.quality.cleansing import cleanse_columns, drop_duplicates_keep_latest
from lakeforge.quality.expectations import (
    enforce_table_policies,
    split_valid_and_quarantined,
    tag_batch_failures,
    ValidationReport,
    tag_rule_failures,
    validate_rules,
)
from lakeforge.spark import job_description
from lakeforge.tables import delta
from lakeforge.tables.audit import LayerCounts
from lakeforge.tables.layout import Lakehouse

log = logging.getLogger(__name__)


class Phases(NamedTuple):
    """What a source's Spark jobs are named after (spark.job_description): "<layer> <table>: <phase>"."""

    land: str = "read + bronze write"
    count: str = "bronze count"
    rules: str = "cleanse + row rules + table rules"  # the rules' aggregate (the first job) fills the cleansed cache
    quarantine: str = "quarantine write"
    duplicates: str = "duplicates count"
    merge: str = "dedup + silver merge"
    audit: str = "audit + validations"


PHASES = Phases()
CORRUPT = "_corrupt_record"
METADATA = ["_source", "_source_ref", "_run_id", "_ingested_at"]
BRONZE_STATS_COLUMNS = ["_run_id", "_ingested_at"]  # what bronze is read by: a run's rows, or the rows since a time


def with_bronze_metadata(source: str, run_id: str) -> Callable[[DataFrame], DataFrame]:
    """Bronze keeps raw values plus where (_source_ref: file, table or page, set by the reader),
    when and by which run they came."""

    def transform(df: DataFrame) -> DataFrame:
        return df.select(
            "*",
            F.lit(source).alias("_source"),
            F.lit(run_id).alias("_run_id"),
            F.current_timestamp().alias("_ingested_at"),
        )

    return transform


def keep_raw_record(raw_columns: list[str]) -> Callable[[DataFrame], DataFrame]:
    """Carry the untouched raw values alongside, so a quarantined row shows what arrived."""

    def transform(df: DataFrame) -> DataFrame:
        return df.withColumn("_raw", F.struct(*[F.col(f"`{name}`") for name in raw_columns]))

    return transform


def as_quarantine_rows(df: DataFrame, table: str) -> DataFrame:
    raw_text = F.to_json("_raw")
    if CORRUPT in df.columns:
        raw_text = F.coalesce(F.col(CORRUPT), raw_text)
    return df.select(
        F.lit(table).alias("_table"),
        F.col("_failed_rules").alias("_reasons"),
        F.col("_failure_details").alias("_details"),
        raw_text.alias("_raw_record"),
        *METADATA,
        F.current_timestamp().alias("_quarantined_at"),
    )


def silver_columns(spec: SilverTable) -> list[str]:
    return [*spec.columns, *METADATA]


def refine_to_silver(
    spark: SparkSession,
    bronze_batch: DataFrame,
    read: int,
    table: str,
    spec: SilverTable,
    lakehouse: Lakehouse,
    on_validated: Callable[[ValidationReport], None],
    batch_id: int | None = None,
) -> LayerCounts:
    """Route every bronze row to silver, quarantine or the duplicates it loses to, and count each.

    Each count comes from somewhere else, so a row lost on the way shows as an imbalance: read is
    the caller's count of the cached bronze rows (before any transform), quarantined and written are Delta's commit
    metrics, duplicates are rows beyond one per key among the valid rows.

    on_validated receives the Great Expectations report before its policies are enforced, so a
    failing batch's results are kept too. batch_id: a streaming micro-batch id, stable across
    restarts, which makes the quarantine append idempotent when a batch is replayed (the silver
    MERGE is idempotent by itself).
    """
    raw_columns = [name for name in bronze_batch.columns if not name.startswith("_")]
    typed = (
        bronze_batch.transform(keep_raw_record(raw_columns))
        .transform(cleanse_columns(spec.columns))
        .transform(tag_rule_failures(spec.expectations))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    try:
        counts = route_typed_rows(spark, typed, table, spec, lakehouse, on_validated, batch_id)
    finally:
        typed.unpersist()
    counts.read = read
    return counts


def route_typed_rows(
    spark: SparkSession,
    typed: DataFrame,
    table: str,
    spec: SilverTable,
    lakehouse: Lakehouse,
    on_validated: Callable[[ValidationReport], None],
    batch_id: int | None,
) -> LayerCounts:
    parsed = typed.where(~F.array_contains("_failed_rules", "malformed_record")).select(*spec.columns)
    with job_description(spark, f"silver {table}: {PHASES.rules}"):  # the first action: fills typed's cache
        report = validate_rules(parsed, spec.expectations, suite_name=f"silver.{table}")
    on_validated(report)
    outcome = enforce_table_policies(report, spec.expectations)
    for warning in outcome.warnings:
        log.warning("silver.%s: %s", table, warning)
    valid, rejected = split_valid_and_quarantined(typed.transform(tag_batch_failures(outcome)))

    app_id = f"{table}:quarantine" if batch_id is not None else None
    counts = LayerCounts(source=table, layer="silver")
    with job_description(spark, f"silver {table}: {PHASES.quarantine}"):
        counts.quarantined = delta.append(as_quarantine_rows(rejected, table), lakehouse.quarantine(table), app_id=app_id, version=batch_id)
    with job_description(spark, f"silver {table}: {PHASES.duplicates}"):
        counts.deduplicated = count_duplicates(valid, spec.keys)
    deduped = valid.transform(drop_duplicates_keep_latest(spec.keys, spec.latest_by)).select(*silver_columns(spec))
    with job_description(spark, f"silver {table}: {PHASES.merge}"):
        merged = delta.merge_upsert(spark, deduped, lakehouse.silver(table), spec.keys, spec.latest_by)
    counts.written = merged.source_rows
    counts.inserted, counts.updated = merged.inserted, merged.updated
    return counts


def count_duplicates(df: DataFrame, keys: list[str]) -> int:
    """Rows beyond the first of each key: what deduplication should remove, counted without it."""
    row = df.agg(F.count(F.lit(1)).alias("rows"), F.count_distinct(F.struct(*keys)).alias("keys")).first()
    return row["rows"] - row["keys"]
