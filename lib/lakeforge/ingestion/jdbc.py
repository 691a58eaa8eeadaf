"""Database tables over JDBC -> bronze: full or incremental by a watermark column, read in parallel."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

from lakeforge.config.models import JdbcSource, read_secret


@dataclass(frozen=True)
class JdbcSlice:
    """What an incremental read covers: rows with low < watermark <= high."""

    low: str | None
    high: str | None
    rows: int
    min_key: int | None
    max_key: int | None


KNOWN_DRIVERS = {
    "postgresql": "org.postgresql.Driver",
    "mysql": "com.mysql.cj.jdbc.Driver",
    "sqlserver": "com.microsoft.sqlserver.jdbc.SQLServerDriver",
    "oracle": "oracle.jdbc.OracleDriver",
}


def driver_class(source: JdbcSource) -> str:
    """Named explicitly: jars added through spark.jars are not visible to DriverManager's lookup."""
    if source.driver:
        return source.driver
    subprotocol = source.url.split(":")[1] if source.url.startswith("jdbc:") else ""
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


def watermark_filter(source: JdbcSource, low: str | None, high: str | None) -> str:
    if source.watermark_column is None:
        return "TRUE"
    column = source.watermark_column
    conditions = []
    if low is not None:
        conditions.append(f"{column} > '{low}'")
    if high is not None:
        conditions.append(f"{column} <= '{high}'")
    return " AND ".join(conditions) or "TRUE"


def plan_slice(spark: SparkSession, source: JdbcSource, low: str | None) -> JdbcSlice:
    """One small query fixes the upper watermark first, so rows committed mid-read wait for the next run."""
    key = source.partition_column
    wm = source.watermark_column
    select = [
        f"CAST(MAX({wm}) AS TEXT) AS high" if wm else "NULL AS high",
        "COUNT(*) AS n",
        f"MIN({key}) AS min_key, MAX({key}) AS max_key" if key else "NULL AS min_key, NULL AS max_key",
    ]
    query = f"SELECT {', '.join(select)} FROM {source.table} WHERE {watermark_filter(source, low, None)}"
    row = spark.read.format("jdbc").options(**connection_options(source)).option("query", query).load().first()
    return JdbcSlice(low=low, high=row["high"], rows=int(row["n"]), min_key=row["min_key"], max_key=row["max_key"])


def read_slice(spark: SparkSession, source: JdbcSource, plan: JdbcSlice) -> DataFrame:
    """The rows of the slice, split into num_partitions range queries on the partition column."""
    subquery = f"(SELECT * FROM {source.table} WHERE {watermark_filter(source, plan.low, plan.high)}) AS src"
    reader = spark.read.format("jdbc").options(**connection_options(source)).option("dbtable", subquery)
    if source.partition_column and source.num_partitions > 1 and plan.min_key is not None:
        reader = (
            reader.option("partitionColumn", source.partition_column)
            .option("lowerBound", str(plan.min_key))
            .option("upperBound", str(plan.max_key + 1))
            .option("numPartitions", str(source.num_partitions))
        )
    return reader.load()
