"""High-water marks of incremental sources, kept in a Delta control table."""

from __future__ import annotations

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType, TimestampType

from lakeforge.tables import delta
from lakeforge.tables.audit import utcnow
from lakeforge.tables.layout import Lakehouse

WATERMARK_TABLE = "watermarks"

WATERMARK_SCHEMA = StructType(
    [
        StructField("source", StringType(), False),
        StructField("column", StringType(), False),
        StructField("value", StringType(), True),
        StructField("run_id", StringType(), False),
        StructField("updated_at", TimestampType(), False),
    ]
)


def read_watermark(spark: SparkSession, lakehouse: Lakehouse, source: str) -> str | None:
    path = lakehouse.system(WATERMARK_TABLE)
    if not delta.exists(spark, path):
        return None
    row = spark.read.format("delta").load(path).where(F.col("source") == source).select("value").first()
    return row["value"] if row else None


def advance_watermark(spark: SparkSession, lakehouse: Lakehouse, source: str, column: str, value: str, run_id: str) -> None:
    """Store the new mark; call only after the rows up to it are safely written."""
    path = lakehouse.system(WATERMARK_TABLE)
    update = spark.createDataFrame([(source, column, value, run_id, utcnow())], WATERMARK_SCHEMA)
    if not delta.exists(spark, path):
        delta.append(update, path)
        return
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(update.alias("s"), "t.source = s.source")
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )
