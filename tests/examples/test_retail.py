"""The retail example (conf/examples/retail.yml) end to end on a small hand-made input: orders CSV,
products in the real PostgreSQL, order events on the real Kafka; its gold figures equal a hand computation."""

import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest
from confluent_kafka.admin import AdminClient
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from lakeforge.config import load_pipeline_config
from lakeforge.config.models import PlatformConfig, StorageSettings
from lakeforge.demo.retail.data import RetailData, kafka_login, write_orders
from lakeforge.demo.retail.run import deliver
from lakeforge.pipelines.runner import PipelineRunner
from lakeforge.streaming.services import services_up

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "lakeforge_retail_test"
M1, M2 = "2026-03-01", "2026-03-02"


def order(order_id, customer, product, quantity, day):
    return {"order_id": order_id, "customer_id": customer, "product_id": product, "quantity": quantity, "order_date": day}


def event(event_id, order_id, status, time):
    return {"event_id": event_id, "order_id": order_id, "status": status, "event_time": f"2026-03-0{time}"}


DATA = RetailData(
    products=[
        {"product_id": "1", "name": "Atlas", "category": "Books", "unit_price": "10.00", "updated_at": "2026-03-01 00:00:00"},
        {"product_id": "2", "name": "Kite", "category": "toys", "unit_price": "4.50", "updated_at": "2026-03-01 00:00:00"},
        {"product_id": "3", "name": "Rake", "category": "garden", "unit_price": "20.00", "updated_at": "2026-03-01 00:00:00"},
    ],
    orders=[
        order("O1", "c1", "1", "2", M1), order("O2", "c1", "2", "1", M1), order("O3", "c2", "1", "1", M1),
        order("O4", "c2", "3", "1", M2), order("O5", "c3", "2", "4", M2),
        order("O6", "c3", "2", "0", M2),  # quantity 0: quarantined by quantity_in_range
    ],
    events=[
        event("e1", "O1", "placed", "1T09:00:00"), event("e2", "O1", "paid", "1T10:00:00"), event("e3", "O2", "placed", "1T11:00:00"),
        event("e4", "O3", "paid", "1T12:00:00"), event("e5", "O4", "paid", "2T09:00:00"), event("e6", "O4", "refunded", "2T15:00:00"),
        event("e7", "O5", "paid", "2T10:00:00"),
        event("e8", "O9", "lost", "2T11:00:00"),  # unknown status: quarantined by status_known
    ],
)


@pytest.fixture
def retail(spark, pg_conninfo, tmp_path):
    services_up(None, ("kafka",))  # idempotent; exports LAKEFORGE_KAFKA_*
    with psycopg2.connect(pg_conninfo) as conn, conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    base = load_pipeline_config(ROOT / "conf/examples/retail.yml", env="local")
    topic = f"retail-test-{uuid.uuid4().hex[:8]}"
    config = base.model_copy(update={
        "platform": PlatformConfig(spark=base.platform.spark, storage=StorageSettings(root=str(tmp_path / "lake"), landing=str(tmp_path / "landing"))),
        "sources": {**base.sources,
                    "products": base.sources["products"].model_copy(update={"table": f"{SCHEMA}.products"}),
                    "order_events": base.sources["order_events"].model_copy(update={"topics": [topic]})},
    })
    yield config
    admin = AdminClient(kafka_login(config.sources["order_events"]))
    admin.delete_topics([topic])[topic].result()


def gold(spark, config, name):
    return spark.read.format("delta").load(f"{config.platform.storage.root}/gold/{name}")


def test_retail_gold_figures_equal_a_hand_computation(spark, retail):
    config = retail
    deliver(config, DATA)
    run = PipelineRunner(spark, config).execute()

    assert (run.layer("orders", "silver").written, run.layer("orders", "silver").quarantined) == (5, 1)
    assert (run.layer("order_events", "silver").written, run.layer("order_events", "silver").quarantined) == (7, 1)
    # O4 was refunded, O6 quarantined: books on 03-01 = 2 x 10.00 + 1 x 10.00; toys 4.50 and 4 x 4.50.
    assertDataFrameEqual(gold(spark, config, "daily_category_revenue"), [
        Row(order_date=date(2026, 3, 1), category="books", revenue=Decimal("30.00"), orders=2, units=3),
        Row(order_date=date(2026, 3, 1), category="toys", revenue=Decimal("4.50"), orders=1, units=1),
        Row(order_date=date(2026, 3, 2), category="toys", revenue=Decimal("18.00"), orders=1, units=4),
    ])
    assertDataFrameEqual(gold(spark, config, "customer_lifetime_value"), [
        Row(customer_id="C1", orders=2, lifetime_value=Decimal("24.50"), first_order_date=date(2026, 3, 1), last_order_date=date(2026, 3, 1), avg_order_value=Decimal("12.25")),
        Row(customer_id="C2", orders=1, lifetime_value=Decimal("10.00"), first_order_date=date(2026, 3, 1), last_order_date=date(2026, 3, 1), avg_order_value=Decimal("10.00")),
        Row(customer_id="C3", orders=1, lifetime_value=Decimal("18.00"), first_order_date=date(2026, 3, 2), last_order_date=date(2026, 3, 2), avg_order_value=Decimal("18.00")),
    ])
    assert {(c.source, c.read, c.written) for c in run.layers if c.layer == "gold"} == {
        ("order_status", 5, 5), ("daily_category_revenue", 3, 3), ("customer_lifetime_value", 3, 3)
    }

    # Next day's file: O7, C1 buys a rake on 03-02; the incremental table gains (03-02, garden).
    write_orders(Path(config.platform.storage.landing) / config.sources["orders"].path, [order("O7", "c1", "3", "1", M2)], name="orders_day2.csv")
    PipelineRunner(spark, config).execute()
    revenue = {(row["order_date"].day, row["category"]): row["revenue"] for row in gold(spark, config, "daily_category_revenue").collect()}
    assert revenue == {(1, "books"): Decimal("30.00"), (1, "toys"): Decimal("4.50"), (2, "toys"): Decimal("18.00"), (2, "garden"): Decimal("20.00")}
    c1 = gold(spark, config, "customer_lifetime_value").where("customer_id = 'C1'").first()
    assert (c1["orders"], c1["lifetime_value"], c1["last_order_date"], c1["avg_order_value"]) == (3, Decimal("44.50"), date(2026, 3, 2), Decimal("14.83"))
