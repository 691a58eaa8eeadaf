"""Loads the demo's billing rows into PostgreSQL, where the pipeline's JDBC source reads them.

Rows are upserted by invoice_id, so loading an increment (billing_day<N>.jsonl) adds new invoices and
changes existing ones, as the billing system would.
"""

from __future__ import annotations

import json
import os
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import make_dsn
from psycopg2.extras import execute_values

from lakeforge.config.models import read_secret

COLUMNS = ("invoice_id", "customer_id", "billing_month", "amount", "paid", "updated_at")
UPSERT = "INSERT INTO {table} ({columns}) VALUES %s ON CONFLICT (invoice_id) DO UPDATE SET {changes}"
CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS {table} (
    invoice_id bigint PRIMARY KEY,
    customer_id text,
    billing_month date,
    amount numeric(10, 2),
    paid boolean,
    updated_at timestamp
)"""


def conninfo_from_env(host: str = "127.0.0.1", dbname: str = "lakeforge") -> str:
    """libpq DSN from LAKEFORGE_PG_USER, LAKEFORGE_PG_PASSWORD and LAKEFORGE_PG_PORT (default 25432),
    which `source scripts/services/env.sh` exports once `scripts/services/postgres.sh up` has run."""
    return make_dsn(
        host=host,
        port=os.environ.get("LAKEFORGE_PG_PORT", "25432"),
        dbname=dbname,
        user=read_secret("LAKEFORGE_PG_USER"),
        password=read_secret("LAKEFORGE_PG_PASSWORD"),
    )


def load_billing(conninfo: str, rows_path: Path, table: str = "public.billing") -> int:
    """Creates `table` if missing and upserts the rows of a billing JSON-lines file; returns the row count."""
    rows = [_row(json.loads(line, parse_float=Decimal)) for line in Path(rows_path).read_text().splitlines() if line]
    target = sql.Identifier(*table.split("."))
    upsert = sql.SQL(UPSERT).format(
        table=target,
        columns=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
        changes=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in COLUMNS[1:]),
    )
    with closing(psycopg2.connect(conninfo)) as connection, connection, connection.cursor() as cursor:
        cursor.execute(sql.SQL(CREATE_TABLE).format(table=target))
        execute_values(cursor, upsert.as_string(cursor), rows, page_size=5000)
    return len(rows)


def _row(record: dict) -> tuple:
    missing = set(COLUMNS) - record.keys()
    if missing:
        raise ValueError(f"billing row {record!r} lacks {sorted(missing)}; expected the columns {list(COLUMNS)}")
    return tuple(record[column] for column in COLUMNS)
