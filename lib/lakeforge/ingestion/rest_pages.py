"""REST API pages -> bronze (one row per raw page) and bronze pages -> records for silver."""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DataType, IntegerType, StringType, StructField, StructType

from lakeforge.config.models import RestSource
from lakeforge.ingestion.rest import Page

CORRUPT = "_corrupt_record"

PAGE_SCHEMA = StructType(
    [
        StructField("_page_url", StringType(), False),
        StructField("_page_number", IntegerType(), False),
        StructField("_status", IntegerType(), False),
        StructField("_body", StringType(), True),
    ]
)


def pages_frame(spark: SparkSession, pages: Iterable[Page]) -> DataFrame:
    return spark.createDataFrame([(page.url, page.number, page.status, page.body) for page in pages], PAGE_SCHEMA)


def record_struct(source: RestSource) -> StructType:
    return StructType([StructField(name, StringType(), True) for name in source.record_schema])


def page_schema(source: RestSource) -> DataType:
    """The body's schema down the dotted records_field path, e.g. data or result.items."""
    schema: DataType = ArrayType(record_struct(source))
    for part in reversed(source.records_field.split(".")):
        schema = StructType([StructField(part, schema, True)])
    return schema


def records_column(source: RestSource) -> Column:
    column = F.col("_parsed")
    for part in source.records_field.split("."):
        column = column.getField(part)
    return column


def explode_records(source: RestSource):
    """One row per record; a page whose body is not the expected JSON becomes one corrupt row."""
    fields = list(source.record_schema)

    def transform(pages: DataFrame) -> DataFrame:
        metadata = [name for name in pages.columns if name.startswith("_") and name not in ("_body", "_parsed")]
        parsed = pages.withColumn("_parsed", F.from_json("_body", page_schema(source), {"mode": "PERMISSIVE"}))
        records = records_column(source)
        good = (
            parsed.where(records.isNotNull())
            .select(F.explode(records).alias("_record"), *metadata)
            .select(*[F.col("_record").getField(name).alias(name) for name in fields], *metadata, F.lit(None).cast("string").alias(CORRUPT))
        )
        bad = parsed.where(records.isNull()).select(
            *[F.lit(None).cast("string").alias(name) for name in fields], *metadata, F.col("_body").alias(CORRUPT)
        )
        return good.unionByName(bad)

    return transform
