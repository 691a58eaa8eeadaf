"""The retail example's data: generated orders, products and order events, and writers that put them
where the pipeline reads them (CSV files, a PostgreSQL table, a Kafka topic)."""

from __future__ import annotations

import csv
import json
import random
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import psycopg2
from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from psycopg2 import sql
from psycopg2.extras import execute_values

from lakeforge.config.models import JdbcSource, KafkaSource, read_secret

ORDER_COLUMNS = ("order_id", "customer_id", "product_id", "quantity", "order_date")
PRODUCT_COLUMNS = ("product_id", "name", "category", "unit_price", "updated_at")
CATEGORIES = {"books": (8, 40), "toys": (5, 60), "garden": (12, 150), "kitchen": (6, 90)}
CREATE_PRODUCTS = """
CREATE TABLE IF NOT EXISTS {table} (
    product_id integer PRIMARY KEY,
    name text,
    category text,
    unit_price numeric(10, 2),
    updated_at timestamp
)"""


@dataclass
class RetailData:
    """Rows as the source systems hold them: every value text, as in the files and messages."""

    orders: list[dict] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def generate_retail_data(orders: int = 300, customers: int = 60, days: int = 7, seed: int = 7) -> RetailData:
    """Orders over `days` days from 2026-03-01, three products per category, and for each order a
    `placed` then a `paid` event, one in ten later `refunded` or `cancelled`."""
    rng = random.Random(seed)
    data = RetailData()
    for index, (category, (low, high)) in enumerate(item for item in CATEGORIES.items() for _ in range(3)):
        data.products.append({"product_id": str(index + 1), "name": f"{category} #{index + 1}", "category": category,
                              "unit_price": f"{rng.uniform(low, high):.2f}", "updated_at": "2026-03-01 00:00:00"})
    for number in range(1, orders + 1):
        day = date(2026, 3, 1) + timedelta(days=rng.randrange(days))
        order_id = f"O{number:05d}"
        data.orders.append({"order_id": order_id, "customer_id": f"C{rng.randrange(customers) + 1:04d}", "product_id": rng.choice(data.products)["product_id"],
                            "quantity": str(rng.randint(1, 5)), "order_date": day.isoformat()})
        placed = datetime.combine(day, datetime.min.time()) + timedelta(minutes=rng.randrange(24 * 60))
        statuses = ["placed", "paid"] + ([rng.choice(["refunded", "cancelled"])] if rng.random() < 0.1 else [])
        for step, status in enumerate(statuses):
            data.events.append({"event_id": f"{order_id}-{step}", "order_id": order_id, "status": status,
                                "event_time": (placed + timedelta(hours=step)).isoformat(timespec="seconds")})
    return data


def write_orders(directory: Path, rows: list[dict], name: str = "orders.csv") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=ORDER_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def load_products(source: JdbcSource, rows: list[dict]) -> None:
    """Upsert the products into the table the JDBC source reads (schema and table created if missing)."""
    url = urlparse(source.url.removeprefix("jdbc:"))
    schema_name, _, table_name = source.table.rpartition(".")
    table = sql.Identifier(*[part for part in (schema_name, table_name) if part])
    with closing(psycopg2.connect(host=url.hostname, port=url.port, dbname=url.path.lstrip("/"),
                                  user=read_secret(source.user_env), password=read_secret(source.password_env))) as conn, conn, conn.cursor() as cur:
        if schema_name:
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema_name)))
        cur.execute(sql.SQL(CREATE_PRODUCTS).format(table=table))
        upsert = sql.SQL("INSERT INTO {table} ({columns}) VALUES %s ON CONFLICT (product_id) DO UPDATE SET {changes}").format(
            table=table,
            columns=sql.SQL(", ").join(map(sql.Identifier, PRODUCT_COLUMNS)),
            changes=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in PRODUCT_COLUMNS[1:]),
        )
        execute_values(cur, upsert, [tuple(row[c] for c in PRODUCT_COLUMNS) for row in rows])


def kafka_login(source: KafkaSource) -> dict[str, str]:
    login = {"bootstrap.servers": source.bootstrap}
    if source.user_env is not None:
        login |= {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
                  "sasl.username": read_secret(source.user_env), "sasl.password": read_secret(source.password_env)}
    return login


def publish_events(source: KafkaSource, rows: list[dict], partitions: int = 2) -> None:
    """Send each event as a JSON value keyed by order (one order's events stay in order), creating the topic if missing."""
    login, topic = kafka_login(source), source.topics[0]
    admin = AdminClient(login)  # kept referenced until the result: a collected client cancels its requests
    try:
        admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic].result()
    except KafkaException as error:
        if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise
    producer = Producer({**login, "enable.idempotence": True})
    for row in rows:
        producer.produce(topic, value=json.dumps(row).encode(), key=row["order_id"].encode())
    undelivered = producer.flush(60)
    if undelivered:
        raise RuntimeError(f"{undelivered} order events were not delivered to Kafka topic {topic} at {source.bootstrap}")
