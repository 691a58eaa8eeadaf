"""JDBC ingestion against the real PostgreSQL: parallel reads, incremental watermark, MERGE to silver."""

from datetime import datetime, timedelta

import psycopg2
import pytest

from helpers import one_source_pipeline
from lakeforge.config.models import PipelineConfig
from lakeforge.ingestion import jdbc
from lakeforge.pipelines.runner import PipelineRunner
from lakeforge.quality.expectations import ExpectationFailedError
from lakeforge.tables.watermarks import read_watermark

TABLE = "lakeforge_test_orders"
T0 = datetime(2026, 1, 1, 12, 0, 0)


@pytest.fixture()
def orders(pg_conninfo):
    with psycopg2.connect(pg_conninfo) as conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cur.execute(f"CREATE TABLE {TABLE} (order_id bigint PRIMARY KEY, amount numeric(10,2), updated_at timestamp)")
        cur.executemany(
            f"INSERT INTO {TABLE} VALUES (%s, %s, %s)",
            [(i, i * 1.5, T0 + timedelta(seconds=i)) for i in range(1, 1001)],
        )
    yield pg_conninfo
    with psycopg2.connect(pg_conninfo) as conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")


def pipeline(tmp_path, extra_rules=()) -> PipelineConfig:
    source = {
        "kind": "jdbc",
        "url": "jdbc:postgresql://127.0.0.1:${LAKEFORGE_PG_PORT:-25432}/lakeforge",
        "table": TABLE,
        "user_env": "LAKEFORGE_PG_USER",
        "password_env": "LAKEFORGE_PG_PASSWORD",
        "primary_key": ["order_id"],
        "watermark_column": "updated_at",
        "partition_column": "order_id",
        "num_partitions": 4,
    }
    silver = {
        "keys": ["order_id"],
        "latest_by": "updated_at",
        "columns": {"order_id": {"type": "bigint"}, "amount": {"type": "decimal(10,2)"}, "updated_at": {"type": "timestamp"}},
        "expectations": list(extra_rules),
    }
    return one_source_pipeline(tmp_path, "orders", source, silver)


def test_partitioned_read_covers_every_row_once(spark, orders, tmp_path):
    source = pipeline(tmp_path).sources["orders"]
    plan = jdbc.plan_slice(spark, source, low=None)
    assert (plan.rows, plan.min_key, plan.max_key) == (1000, 1, 1000)
    df = jdbc.read_slice(spark, source, plan)
    assert df.rdd.getNumPartitions() == 4
    assert df.count() == 1000 and df.select("order_id").distinct().count() == 1000


def test_incremental_runs_pick_up_each_change_exactly_once(spark, orders, tmp_path):
    config = pipeline(tmp_path)
    first = PipelineRunner(spark, config).execute()
    assert first.layer("orders", "silver").inserted == 1000

    with psycopg2.connect(orders) as conn, conn.cursor() as cur:
        cur.execute(f"UPDATE {TABLE} SET amount = 0, updated_at = %s WHERE order_id <= 10", (T0 + timedelta(days=1),))
        cur.execute(f"INSERT INTO {TABLE} VALUES (2001, 9.99, %s), (2002, 9.99, %s)", (T0 + timedelta(days=1),) * 2)

    second = PipelineRunner(spark, config).execute()
    bronze, silver = second.layer("orders", "bronze"), second.layer("orders", "silver")
    assert (bronze.read, silver.inserted, silver.updated) == (12, 2, 10)

    third = PipelineRunner(spark, config).execute()
    assert third.layer("orders", "bronze").read == 0

    table = spark.read.format("delta").load(f"{tmp_path}/lake/silver/orders")
    assert table.count() == 1002
    assert table.where("order_id <= 10 AND amount = 0").count() == 10


def test_watermark_advances_only_after_a_successful_write(spark, orders, tmp_path):
    PipelineRunner(spark, pipeline(tmp_path)).execute()
    lakehouse_mark = read_watermark(spark, PipelineRunner(spark, pipeline(tmp_path)).lakehouse, "orders")
    assert (lakehouse_mark.value, lakehouse_mark.type) == ("2026-01-01 12:16:40", "timestamp")  # T0 + 1000 s

    with psycopg2.connect(orders) as conn, conn.cursor() as cur:
        cur.execute(f"INSERT INTO {TABLE} VALUES (3001, -5, %s)", (T0 + timedelta(days=2),))
    strict = {"name": "no_negative_batch", "expectation": "expect_column_min_to_be_between", "kwargs": {"column": "amount", "min_value": 0}, "policy": "fail"}
    failing = PipelineRunner(spark, pipeline(tmp_path, [strict]))
    with pytest.raises(ExpectationFailedError, match="no_negative_batch"):
        failing.execute()
    assert read_watermark(spark, failing.lakehouse, "orders") == lakehouse_mark

    retry = PipelineRunner(spark, pipeline(tmp_path)).execute()
    assert retry.layer("orders", "bronze").read == 1
    bronze = spark.read.format("delta").load(f"{tmp_path}/lake/bronze/orders")
    assert bronze.where("order_id = 3001").count() == 1  # the failed run's copy was discarded


def test_a_string_watermark_with_quotes_reads_each_row_once(spark, pg_conninfo, tmp_path):
    table = "lakeforge_test_quoted_marks"
    with psycopg2.connect(pg_conninfo) as conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} (code text PRIMARY KEY, amount int)")
        cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)", [("a'1", 1), ("b''2", 2), ("c\\'3", 3)])
    source = {
        "kind": "jdbc", "url": "jdbc:postgresql://127.0.0.1:${LAKEFORGE_PG_PORT:-25432}/lakeforge", "table": table,
        "user_env": "LAKEFORGE_PG_USER", "password_env": "LAKEFORGE_PG_PASSWORD", "primary_key": ["code"], "watermark_column": "code",
    }
    silver = {"keys": ["code"], "columns": {"code": {}, "amount": {"type": "int"}}}
    config = one_source_pipeline(tmp_path, "codes", source, silver)
    try:
        assert PipelineRunner(spark, config).execute().layer("codes", "bronze").read == 3
        assert read_watermark(spark, PipelineRunner(spark, config).lakehouse, "codes").value == "c\\'3"
        with psycopg2.connect(pg_conninfo) as conn, conn.cursor() as cur:
            cur.execute(f"INSERT INTO {table} VALUES (%s, 4), (%s, 0)", ("d' OR '1'='1", "a'0"))  # only the first sorts above c\\'3
        again = PipelineRunner(spark, config).execute()
        assert again.layer("codes", "bronze").read == 1
        bronze = spark.read.format("delta").load(f"{tmp_path}/lake/bronze/codes")
        assert sorted(row["code"] for row in bronze.collect()) == ["a'1", "b''2", "c\\'3", "d' OR '1'='1"]
    finally:
        with psycopg2.connect(pg_conninfo) as conn, conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
