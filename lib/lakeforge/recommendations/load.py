"""Batch loader: MovieLens-format files (and the generator's events.csv) -> bronze and silver Delta,
audited per layer."""

from __future__ import annotations

from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.pipelines.medallion import as_quarantine_rows, with_bronze_metadata
from lakeforge.quality.expectations import split_valid_and_quarantined
from lakeforge.recommendations.config import RecsConfig
from lakeforge.recommendations.interactions import Routed, count_routed, from_movielens_ratings, refine, route, with_category, with_raw_columns
from lakeforge.recommendations.tables import RecsTables
from lakeforge.tables import delta
from lakeforge.tables.audit import LayerCounts, Run, record_run

JOB = "recs.load"


def read_csv_text(spark: SparkSession, path: Path) -> DataFrame:
    """Every column as text: typing and its failures belong to silver."""
    return spark.read.option("header", "true").option("inferSchema", "false").csv(str(path)).withColumn("_source_ref", F.input_file_name())


def read_raw_interactions(spark: SparkSession, folder: Path, run_id: str) -> DataFrame:
    """ratings.csv and events.csv (whichever exist) as raw interaction text with bronze metadata."""
    parts = []
    if (folder / "ratings.csv").exists():
        parts.append(from_movielens_ratings(read_csv_text(spark, folder / "ratings.csv")))
    if (folder / "events.csv").exists():
        parts.append(read_csv_text(spark, folder / "events.csv"))
    if not parts:
        raise FileNotFoundError(f"{folder}: expected ratings.csv (MovieLens) and/or events.csv, found neither")
    raw = parts[0].transform(with_raw_columns)
    for part in parts[1:]:
        raw = raw.unionByName(part.transform(with_raw_columns))
    return raw.transform(with_bronze_metadata("files", run_id))


def land_interactions(spark: SparkSession, config: RecsConfig, tables: RecsTables, bronze: DataFrame, run: Run) -> None:
    """bronze rows -> bronze table, then silver (new event ids) and quarantine, counted in `run`."""
    bronze = bronze.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        bronze_counts = run.layer("interactions", "bronze")
        bronze_counts.read = bronze.count()
        bronze_counts.written = delta.append(bronze, tables.bronze)
        typed = bronze.transform(refine(config.silver)).persist(StorageLevel.MEMORY_AND_DISK)
        known = spark.read.format("delta").load(tables.silver) if delta.exists(spark, tables.silver) else None
        routed = route(typed, config.silver, config.tables.interactions, known)
        write_routed(typed, routed, tables, run.layer("interactions", "silver"))
        typed.unpersist()
    finally:
        bronze.unpersist()


def write_routed(typed: DataFrame, routed: Routed, tables: RecsTables, counts: LayerCounts) -> None:
    fresh = routed.silver.persist(StorageLevel.MEMORY_AND_DISK)
    count_routed(typed, routed, fresh, counts)
    counts.written = counts.inserted = delta.append(fresh, tables.silver)
    if not routed.quarantine.isEmpty():
        counts.quarantined = delta.append(routed.quarantine, tables.quarantine)
    fresh.unpersist()


def land_items(spark: SparkSession, config: RecsConfig, tables: RecsTables, movies: DataFrame, run: Run) -> None:
    """movies.csv -> silver items (upserted by item id, with the category) and their quarantine."""
    counts = run.layer("items", "silver")
    typed = movies.transform(with_bronze_metadata("files", run.run_id)).transform(refine(config.items)).persist(StorageLevel.MEMORY_AND_DISK)
    valid, rejected = split_valid_and_quarantined(typed)
    items = valid.dropDuplicates(["item_id"]).select(*config.items.columns).transform(with_category)
    counts.read, counts.quarantined = typed.count(), rejected.count()
    merged = delta.merge_upsert(spark, items, tables.items, ["item_id"], latest_by=None)
    counts.written, counts.inserted, counts.updated = merged.source_rows, merged.inserted, merged.updated
    counts.deduplicated = counts.read - counts.written - counts.quarantined
    if counts.quarantined:
        delta.append(as_quarantine_rows(rejected, config.tables.items), tables.items_quarantine)
    typed.unpersist()


def load_folder(spark: SparkSession, config: RecsConfig, folder: str | Path) -> Run:
    """Load movies.csv, ratings.csv and events.csv from `folder`; the run is recorded in the audit table."""
    folder, tables, run = Path(folder), RecsTables.of(config), Run(job=JOB)
    try:
        if (folder / "movies.csv").exists():
            land_items(spark, config, tables, read_csv_text(spark, folder / "movies.csv"), run)
        land_interactions(spark, config, tables, read_raw_interactions(spark, folder, run.run_id), run)
    except Exception as error:
        record_run(spark, tables.lakehouse, run, error)
        raise
    record_run(spark, tables.lakehouse, run)
    return run
