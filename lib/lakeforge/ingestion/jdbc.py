"""Database tables over JDBC -> bronze: full or incremental by a watermark column, read in parallel."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.config.models import JdbcSource, read_secret
from lakeforge.ingestion.sql_literals import sql_literal
from lakeforge.tables.audit import Watermark


@dataclass(frozen=True)
class JdbcSlice:
    """What an incremental read covers: rows with low < watermark <= high, and how many there are."""

    low: Watermark | None
    high: Watermark | None
    rows: int
    min_key: int | None
    max_key: int | None


KNOWN_DRIVERS = {
    "postgresql": "org.postgresql.Driver",
    "mysql": "com.mysql.cj.jdbc.Driver",
    "sqlserver": "com.microsoft.sqlserver.jdbc.SQLServerDriver",
    "oracle": "oracle.jdbc.OracleDriver",
}


def subprotocol_of(url: str) -> str:
    return url.split(":")[1] if url.startswith("jdbc:") else ""


def driver_class(source: JdbcSource) -> str:
    """Named explicitly: jars added through spark.jars are not visible to DriverManager's lookup."""
    if source.driver:
        return source.driver
    subprotocol = subprotocol_of(source.url)
    if subprotocol not in KNOWN_DRIVERS:
        raise ValueError(f"set `driver` for JDBC URL {source.url}: no known driver for '{subprotocol}' ({sorted(KNOWN_DRIVERS)})")
    return KNOWN_DRIVERS[subprotocol]


def connection_options(source: JdbcSource) -> dict[str, str]:
    return {
        "url": source.url,
        "driver": driver_class(source),
        "user": read_secret(source.user_env),
        "password": read_secret(source.password_env),
        "fetchsize": str(source.fetch_size),
    }


def dialect_of(source: JdbcSource) -> str:
    """The SQL dialect literals are written in: the URL's subprotocol if known, else ANSI SQL."""
    subprotocol = subprotocol_of(source.url)
    return subprotocol if subprotocol in KNOWN_DRIVERS else "ansi"


def watermark_filter(source: JdbcSource, low: Watermark | None, high: Watermark | None) -> str:
    if source.watermark_column is None:
        return "1=1"  # not TRUE: Oracle and SQL Server have no boolean literal
    column, dialect = source.watermark_column, dialect_of(source)
    conditions = []
    if low is not None:
        conditions.append(f"{column} > {sql_literal(low, dialect)}")
    if high is not None:
        conditions.append(f"{column} <= {sql_literal(high, dialect)}")
    return " AND ".join(conditions) or "1=1"


def plan_slice(spark: SparkSession, source: JdbcSource, low: Watermark | None) -> JdbcSlice:
    """One small query fixes the upper watermark first, so rows committed mid-read wait for the next run.

    Its COUNT is the slice's size as the database sees it, which the audit checks bronze against.
    """
    key, wm = source.partition_column, source.watermark_column
    select = ["COUNT(*) AS n"]
    if wm:
        select.append(f"MAX({wm}) AS high")
    if key:
        select.append(f"MIN({key}) AS min_key, MAX({key}) AS max_key")
    query = f"SELECT {', '.join(select)} FROM {source.table} WHERE {watermark_filter(source, low, None)}"
    stats = spark.read.format("jdbc").options(**connection_options(source)).option("query", query).load()
    stats = stats.toDF(*[name.lower() for name in stats.columns])  # Oracle upper-cases unquoted aliases
    high_type = stats.schema["high"].dataType.simpleString() if wm else None
    row = stats.select(
        F.col("n").cast("long").alias("n"),
        # The mark is kept as Spark's text of the typed value (the session time zone for timestamps).
        (F.col("high").cast("string") if wm else F.lit(None).cast("string")).alias("high"),
        *[(F.col(name).cast("long") if key else F.lit(None).cast("long")).alias(name) for name in ("min_key", "max_key")],
    ).first()
    high = Watermark(value=row["high"], type=high_type) if row["high"] is not None else None
    return JdbcSlice(low=low, high=high, rows=row["n"], min_key=row["min_key"], max_key=row["max_key"])


def read_slice(spark: SparkSession, source: JdbcSource, plan: JdbcSlice) -> DataFrame:
    """The rows of the slice, split into num_partitions range queries on the partition column."""
    # No AS before the alias: Oracle rejects it for a table alias.
    subquery = f"(SELECT * FROM {source.table} WHERE {watermark_filter(source, plan.low, plan.high)}) src"
    reader = spark.read.format("jdbc").options(**connection_options(source)).option("dbtable", subquery)
    if source.partition_column and source.num_partitions > 1 and plan.min_key is not None:
        reader = (
            reader.option("partitionColumn", source.partition_column)
            .option("lowerBound", str(plan.min_key))
            .option("upperBound", str(plan.max_key + 1))
            .option("numPartitions", str(source.num_partitions))
        )
    return reader.load()
