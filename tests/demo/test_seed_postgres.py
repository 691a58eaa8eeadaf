"""load_billing against the real PostgreSQL of scripts/services/postgres.sh (`make test` starts it).

Each test writes to its own table, so it can run beside the demo, which uses public.billing.
"""

from __future__ import annotations

import json
import uuid
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest

from lakeforge.demo.generate import generate_demo, generate_increment
from lakeforge.demo.seed_postgres import conninfo_from_env, load_billing

@pytest.fixture(scope="module")
def conninfo(pg_conninfo: str) -> str:
    return pg_conninfo


@pytest.fixture
def table(conninfo: str):
    name = f"billing_test_{uuid.uuid4().hex[:8]}"
    yield f"public.{name}"
    with closing(psycopg2.connect(conninfo)) as connection, connection, connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS public.{name}")


def fetch(conninfo: str, query: str) -> list[tuple]:
    with closing(psycopg2.connect(conninfo)) as connection, connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchall()


def stored(conninfo: str, table: str) -> dict[int, dict]:
    """The table's rows as the JSON rows that were loaded look (amount as Decimal)."""
    query = f"SELECT invoice_id, customer_id, billing_month::text, amount, paid, updated_at::text FROM {table}"
    columns = ("invoice_id", "customer_id", "billing_month", "amount", "paid", "updated_at")
    return {row[0]: dict(zip(columns, row)) for row in fetch(conninfo, query)}


def read_rows(path: Path) -> dict[int, dict]:
    rows = (json.loads(line, parse_float=Decimal) for line in path.read_text().splitlines())
    return {row["invoice_id"]: row for row in rows}


def test_load_then_increment_upserts(conninfo: str, table: str, tmp_path: Path):
    seeds = tmp_path / "seeds"
    generate_demo(tmp_path / "landing", seeds, customers=300, seed=11)
    generate_increment(tmp_path / "landing", seeds, day=2, new_customers=40, seed=11)
    day1, day2 = read_rows(seeds / "billing.jsonl"), read_rows(seeds / "billing_day2.jsonl")

    assert load_billing(conninfo, seeds / "billing.jsonl", table=table) == len(day1)
    assert stored(conninfo, table) == day1

    assert load_billing(conninfo, seeds / "billing_day2.jsonl", table=table) == len(day2)
    changed, added = set(day2) & set(day1), set(day2) - set(day1)
    assert changed and added
    after = stored(conninfo, table)
    assert after == {**day1, **day2}
    assert all(after[invoice] != day1[invoice] for invoice in changed)


def test_loading_twice_changes_nothing(conninfo: str, table: str, tmp_path: Path):
    generate_demo(tmp_path / "landing", tmp_path / "seeds", customers=50, seed=3)
    rows = tmp_path / "seeds" / "billing.jsonl"
    load_billing(conninfo, rows, table=table)
    first = fetch(conninfo, f"SELECT * FROM {table} ORDER BY invoice_id")
    load_billing(conninfo, rows, table=table)
    assert fetch(conninfo, f"SELECT * FROM {table} ORDER BY invoice_id") == first


def test_conninfo_names_the_missing_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("LAKEFORGE_PG_PASSWORD", raising=False)
    monkeypatch.setenv("LAKEFORGE_PG_USER", "lakeforge")
    with pytest.raises(KeyError, match="LAKEFORGE_PG_PASSWORD"):
        conninfo_from_env()
