"""High-water marks of incremental sources, read from the source commits in the audit table.

A source's watermark is written in the same Delta commit as the audit rows that commit its slice
(`audit.commit_source`), so it can never run ahead of the rows it covers.
"""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakeforge.tables import delta
from lakeforge.tables.audit import SUCCEEDED, Watermark, read_audit
from lakeforge.tables.layout import Lakehouse

# Where marks lived before they moved into the audit table; still read so an existing lakehouse
# resumes where it stopped.
LEGACY_WATERMARK_TABLE = "watermarks"


def read_watermark(spark: SparkSession, lakehouse: Lakehouse, source: str) -> Watermark | None:
    """The mark of the latest committed slice of `source`; None: never read, start from the beginning."""
    audit = read_audit(spark, lakehouse)
    if "watermark" in audit.columns:
        committed = (F.col("source") == source) & (F.col("layer") == "bronze") & (F.col("status") == SUCCEEDED)
        row = audit.where(committed & F.col("watermark").isNotNull()).orderBy(F.desc("ended_at")).select("watermark", "watermark_type").first()
        if row is not None:
            return Watermark(value=row["watermark"], type=row["watermark_type"])
    return read_legacy_watermark(spark, lakehouse, source)


def read_legacy_watermark(spark: SparkSession, lakehouse: Lakehouse, source: str) -> Watermark | None:
    path = lakehouse.system(LEGACY_WATERMARK_TABLE)
    if not delta.exists(spark, path):
        return None
    row = spark.read.format("delta").load(path).where(F.col("source") == source).select("value").first()
    # Stored as text without its type; compared as text, as that release did.
    return Watermark(value=row["value"], type="string") if row and row["value"] is not None else None
