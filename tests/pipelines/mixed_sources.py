"""A small pipeline with every batch source kind (files in two batches, JDBC, REST) and the helpers
the failure tests share: seeding the sources, adding to them, and comparing two lakehouses."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import psycopg2
from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual

TOKEN = "mixed-sources-token"
T0 = datetime(2026, 3, 1, 8, 0, 0)
SOURCES = ("events", "orders", "tickets")
# Who wrote a row and when differs between runs by design; the data must not.
RUN_COLUMNS = ("_run_id", "_ingested_at", "_quarantined_at", "_source_ref")


def pipeline_dict(root: Path, orders_table: str, api_url: str) -> dict:
    """The config as YAML would hold it: lakehouse and landing under root."""
    return {
        "name": "mixed",
        "platform": {"storage": {"root": str(root / "lake"), "landing": str(root / "in")}},
        "sources": {
            "events": {
                "kind": "files", "path": "events", "format": "jsonl", "max_files_per_batch": 1,
                "schema": {"event_id": "string", "kind": "string"},
            },
            "orders": {
                "kind": "jdbc", "url": "jdbc:postgresql://127.0.0.1:${LAKEFORGE_PG_PORT:-25432}/lakeforge", "table": orders_table,
                "user_env": "LAKEFORGE_PG_USER", "password_env": "LAKEFORGE_PG_PASSWORD", "primary_key": ["order_id"],
                "watermark_column": "updated_at", "partition_column": "order_id", "num_partitions": 2,
            },
            "tickets": {
                "kind": "rest", "url": api_url, "pagination": {"type": "cursor"}, "token_env": "LF_MIXED_API_TOKEN",
                "since_param": "updated_since", "since_field": "updated_at", "retry": {"max_attempts": 2, "backoff_seconds": 0.01},
                "record_schema": {"ticket_id": "string", "customer_id": "string", "updated_at": "string", "priority": "string"},
            },
        },
        "silver": {
            "events": {"source": "events", "keys": ["event_id"], "columns": {"event_id": {"type": "int"}, "kind": {}}},
            "orders": {
                "source": "orders", "keys": ["order_id"], "latest_by": "updated_at",
                "columns": {"order_id": {"type": "bigint"}, "note": {}, "updated_at": {"type": "timestamp"}},
            },
            "tickets": {
                "source": "tickets", "keys": ["ticket_id"], "latest_by": "updated_at",
                "columns": {"ticket_id": {}, "customer_id": {}, "updated_at": {"type": "timestamp"}, "priority": {}},
            },
        },
    }


def write_events(landing: Path, name: str, ids: range, malformed: bool = False) -> None:
    folder = landing / "events"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"event_id": str(i), "kind": "click" if i % 2 else "view"}) for i in ids]
    if malformed:
        lines.append('{"event_id": "broken')  # a cut line: bronze keeps it, silver quarantines it
    (folder / name).write_text("\n".join(lines) + "\n")


def create_orders(conninfo: str, table: str, ids: range) -> None:
    with psycopg2.connect(conninfo) as conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} (order_id bigint PRIMARY KEY, note text, updated_at timestamp)")
    add_orders(conninfo, table, ids)


def add_orders(conninfo: str, table: str, ids: range) -> None:
    with psycopg2.connect(conninfo) as conn, conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} VALUES (%s, %s, %s)", [(i, f"order {i}", T0 + timedelta(minutes=i)) for i in ids])


def tickets(ids: range) -> list[dict]:
    return [
        {"ticket_id": f"T{i:03d}", "customer_id": f"C{i % 7}", "updated_at": f"2026-03-01T08:{i:02d}:00Z", "priority": "low"} for i in ids
    ]


def lake_table(spark: SparkSession, root: Path, layer: str, name: str) -> DataFrame:
    df = spark.read.format("delta").load(str(root / "lake" / layer / name))
    # By name: a table first created by a killed run may order its columns otherwise.
    return df.select(*sorted(column for column in df.columns if column not in RUN_COLUMNS))


def assert_same_tables(spark: SparkSession, root: Path, reference: Path) -> None:
    """Bronze, silver and quarantine of every source hold the same rows (as multisets) under both roots."""
    for layer in ("bronze", "silver", "quarantine"):
        for name in SOURCES:
            if not (reference / "lake" / layer / name).exists():
                assert not (root / "lake" / layer / name).exists(), (layer, name)
                continue
            assertDataFrameEqual(lake_table(spark, root, layer, name), lake_table(spark, reference, layer, name), checkRowOrder=False)
