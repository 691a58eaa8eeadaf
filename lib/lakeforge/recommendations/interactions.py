"""Raw interactions -> typed silver rows: the transforms the batch loader and the stream job share.

Every source is first shaped into RAW_COLUMNS (text), then typed and checked by conf's silver rules;
a row breaking a rule goes to quarantine with the rule's name, and an event id already in silver (or
seen earlier in the same batch) is a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakeforge.pipelines.medallion import METADATA, as_quarantine_rows, keep_raw_record
from lakeforge.quality.cleansing import cleanse_columns
from lakeforge.quality.expectations import split_valid_and_quarantined, tag_rule_failures
from lakeforge.recommendations.config import RefineSpec
from lakeforge.tables.audit import LayerCounts

RAW_COLUMNS = ["event_id", "user_id", "item_id", "event_type", "value", "event_time", "variant"]


def from_movielens_ratings(ratings: DataFrame) -> DataFrame:
    """MovieLens ratings.csv (userId, movieId, rating, timestamp in epoch seconds) as raw interactions;
    the event id is derived from the row, so loading the file twice adds nothing."""
    seconds = F.col("timestamp").try_cast("bigint")
    return ratings.select(
        F.concat_ws("-", F.lit("ml"), "userId", "movieId", "timestamp").alias("event_id"),
        F.col("userId").alias("user_id"),
        F.col("movieId").alias("item_id"),
        F.lit("rating").alias("event_type"),
        F.col("rating").alias("value"),
        F.coalesce(F.date_format(F.timestamp_seconds(seconds), "yyyy-MM-dd HH:mm:ss"), F.col("timestamp")).alias("event_time"),
        F.lit(None).cast("string").alias("variant"),
        *[name for name in ratings.columns if name.startswith("_")],
    )


def with_raw_columns(df: DataFrame) -> DataFrame:
    """Any missing raw column as null text (events files need not carry `variant`)."""
    missing = {name: F.lit(None).cast("string") for name in RAW_COLUMNS if name not in df.columns}
    return df.withColumns(missing).select(*RAW_COLUMNS, *[name for name in df.columns if name.startswith("_")])


def refine(spec: RefineSpec) -> Callable[[DataFrame], DataFrame]:
    """Typed columns plus _failed_rules/_failure_details; the raw values ride along in _raw."""
    def transform(raw: DataFrame) -> DataFrame:
        raw_columns = [name for name in raw.columns if not name.startswith("_")]
        return raw.transform(keep_raw_record(raw_columns)).transform(cleanse_columns(spec.columns)).transform(tag_rule_failures(spec.expectations))

    return transform


@dataclass(frozen=True)
class Routed:
    silver: DataFrame  # new events only, in silver's columns
    quarantine: DataFrame  # in the platform's quarantine columns
    valid: DataFrame  # every valid row, duplicates included (its count minus silver's is the duplicates)


def route(typed: DataFrame, spec: RefineSpec, table: str, known_ids: DataFrame | None) -> Routed:
    """Split typed rows into quarantine and silver; silver keeps the first row of each event id that
    `known_ids` (silver's event_id column, or None for an empty table) does not hold yet."""
    valid, rejected = split_valid_and_quarantined(typed)
    fresh = valid.dropDuplicates(["event_id"])
    if known_ids is not None:
        fresh = fresh.join(known_ids.select("event_id"), "event_id", "left_anti")
    return Routed(silver=fresh.select(*spec.columns, *METADATA), quarantine=as_quarantine_rows(rejected, table), valid=valid)


def count_routed(typed: DataFrame, routed: Routed, fresh: DataFrame, counts: LayerCounts) -> int:
    """Silver's reconciliation terms known before the writes: read is the typed rows entering (cached,
    before any split) and the duplicates are valid rows that did not become fresh ones; the caller takes
    written and quarantined from the Delta commits, so a row lost on the way leaves the layer unbalanced.
    Returns the fresh rows' count."""
    counts.read = typed.count()
    fresh_rows = fresh.count()
    counts.deduplicated = routed.valid.count() - fresh_rows
    return fresh_rows


def with_category(items: DataFrame) -> DataFrame:
    """Silver items keep the genres text; the first genre is the item's category."""
    return items.withColumn("category", F.split(F.coalesce("genres", F.lit("(unknown)")), r"\|").getItem(0))
