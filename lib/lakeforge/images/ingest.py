"""Image files -> bronze (raw bytes) -> silver (decoded, checked, split) or quarantine (with the reason).

Every file is one row; re-ingesting a folder adds nothing, new files are added. Rows in = silver
rows + quarantined + duplicate files (same bytes as an image already kept, stored in quarantine too).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import BinaryType, IntegerType, StringType, StructField, StructType

from lakeforge.images.config import ImageDataSpec, SplitSpec
from lakeforge.images.decode import decode_image
from lakeforge.tables import delta
from lakeforge.tables.audit import Run, record_run
from lakeforge.tables.layout import Lakehouse

DECODED = StructType(
    [
        StructField("format", StringType()),
        StructField("width", IntegerType()),
        StructField("height", IntegerType()),
        StructField("channels", IntegerType()),
        StructField("image", BinaryType()),
        StructField("error", StringType()),
    ]
)
SILVER_COLUMNS = ["path", "label", "split", "image", "format", "width", "height", "channels", "sha256", "_run_id"]


# --- extract ---------------------------------------------------------------------------------


def read_image_files(spark: SparkSession, spec: ImageDataSpec) -> DataFrame:
    """Every file under spec.path with its label: the parent folder's name, or the manifest's."""
    if spec.manifest is None:
        files = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(spec.path)
        return files.withColumn("label", F.element_at(F.split("path", "/"), -2))
    manifest = pd.read_csv(spec.manifest, dtype=str)
    missing = {"path", "label"} - set(manifest.columns)
    if missing:
        raise ValueError(f"image manifest {spec.manifest} lacks column(s) {sorted(missing)}")
    base = Path(spec.manifest).resolve().parent
    manifest["path"] = [f"file:{(base / p).resolve()}" for p in manifest["path"]]
    absent = [p for p in manifest["path"] if not Path(p.removeprefix("file:")).is_file()]
    if absent:
        raise FileNotFoundError(f"image manifest {spec.manifest} names {len(absent)} missing file(s), e.g. {absent[:3]}")
    files = spark.read.format("binaryFile").load(list(manifest["path"]))
    return files.join(spark.createDataFrame(manifest[["path", "label"]]), "path")


# --- transform -------------------------------------------------------------------------------


def decode_column(formats: list[str], max_side: int | None):
    @F.pandas_udf(DECODED)
    def decode(content: pd.Series) -> pd.DataFrame:
        return pd.DataFrame([asdict(decode_image(bytes(b), formats, max_side)) for b in content], columns=DECODED.fieldNames())

    return decode


def decode_images(files: DataFrame, spec: ImageDataSpec) -> DataFrame:
    """Adds the decoded struct columns (image is None and error says why for a rejected file)."""
    return files.withColumn("_decoded", decode_column(spec.formats, spec.max_side)("content")).select("*", "_decoded.*").drop("_decoded")


def mark_duplicates(decoded: DataFrame, kept: DataFrame) -> DataFrame:
    """`duplicate_of`: the path of an earlier file with the same bytes (kept before, or first by path)."""
    first = Window.partitionBy("sha256").orderBy("path")
    within = decoded.withColumn("_first", F.first("path").over(first))
    earlier = kept.select("sha256", F.col("path").alias("_kept"))
    return (
        within.join(F.broadcast(earlier), "sha256", "left")
        .withColumn("duplicate_of", F.coalesce("_kept", F.when(F.col("_first") != F.col("path"), F.col("_first"))))
        .drop("_first", "_kept")
    )


def split_position(name: Column) -> Column:
    """A file name's place in [0, 1): the first 32 bits of its SHA-256 over 2^32 (any SHA-256 library
    gives the same place, so the split can be recomputed outside Spark)."""
    return F.conv(F.substring(F.sha2(name, 256), 1, 8), 16, 10).cast("double") / 2**32


def assign_split(images: DataFrame, split: SplitSpec) -> DataFrame:
    """train / val / test by a hash of the file name alone: a file gets the same split whichever files
    are ingested with it or after it, and wherever the folder is mounted; each class gets the shares
    on average (within sampling noise for small classes)."""
    position = split_position(F.element_at(F.split("path", "/"), -1))
    return images.withColumn(
        "split", F.when(position < split.train, "train").when(position < split.train + split.val, "val").otherwise("test")
    )


def quarantine_rows(checked: DataFrame) -> DataFrame:
    reason = F.when(F.col("error").isNotNull(), F.col("error")).otherwise(F.concat(F.lit("duplicate of "), F.col("duplicate_of")))
    return checked.where(F.col("error").isNotNull() | F.col("duplicate_of").isNotNull()).select(
        "path", "label", F.array(reason).alias("_reasons"), "format", "length", "sha256",
        F.col("content").alias("_raw_record"), "_run_id", F.current_timestamp().alias("_quarantined_at"),
    )


# --- load ------------------------------------------------------------------------------------


def _table_or_empty(spark: SparkSession, path: str, columns: list[str]) -> DataFrame:
    if delta.exists(spark, path):
        return spark.read.format("delta").load(path).select(*columns)
    return spark.createDataFrame([], ", ".join(f"{c} string" for c in columns))


def ingest_images(spark: SparkSession, spec: ImageDataSpec, lakehouse: Lakehouse) -> Run:
    """One ingestion run with its audit row; fails if the counts do not reconcile."""
    run = Run(job=f"images:{spec.table}")
    bronze, silver, quarantine = lakehouse.bronze(spec.table), lakehouse.silver(spec.table), lakehouse.quarantine(spec.table)
    try:
        files = read_image_files(spark, spec)
        new_files = files.join(_table_or_empty(spark, bronze, ["path"]), "path", "left_anti")
        landed = new_files.select("path", "label", "content", "length", "modificationTime",
                                  F.lit(run.run_id).alias("_run_id"), F.current_timestamp().alias("_ingested_at"))
        result = delta.merge_upsert(spark, landed, bronze, keys=["path"], latest_by=None)
        counts = run.layer(spec.table, "bronze")
        counts.read = counts.written = counts.inserted = result.inserted

        done = _table_or_empty(spark, silver, ["path"]).unionByName(_table_or_empty(spark, quarantine, ["path"]))
        pending = spark.read.format("delta").load(bronze).join(done, "path", "left_anti")
        # Snapshot before writing: the pending rows are defined against silver, which the writes change.
        checked = mark_duplicates(
            decode_images(pending, spec).withColumn("sha256", F.sha2("content", 256)),
            _table_or_empty(spark, silver, ["path", "sha256"]),
        ).withColumn("_run_id", F.lit(run.run_id)).localCheckpoint(eager=True)
        totals = checked.agg(F.count("*").alias("read"),
                             F.count(F.when(F.col("error").isNull(), F.col("duplicate_of"))).alias("duplicates")).first()
        counts = run.layer(spec.table, "silver")
        counts.read = totals["read"]
        good = assign_split(checked.where(F.col("error").isNull() & F.col("duplicate_of").isNull()), spec.split)
        written = delta.merge_upsert(spark, good.select(*SILVER_COLUMNS), silver, keys=["path"], latest_by=None)
        rejected = quarantine_rows(checked)
        quarantined = delta.merge_upsert(spark, rejected, quarantine, keys=["path"], latest_by=None)
        counts.written, counts.inserted = written.source_rows, written.inserted
        counts.deduplicated, counts.quarantined = totals["duplicates"], quarantined.source_rows - totals["duplicates"]
    except Exception as error:
        record_run(spark, lakehouse, run, error)
        raise
    record_run(spark, lakehouse, run)
    return run
