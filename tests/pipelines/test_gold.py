"""Gold tables from config: SQL and import-path transforms built in dependency order and audited,
incremental MERGE of touched keys equal to a full rebuild, expectations with their policies."""

from datetime import date

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from lakeforge.config.models import PipelineConfig
from lakeforge.pipelines.gold import DuplicateGoldKeysError, build_gold_tables
from lakeforge.pipelines.gold_definitions import GoldDefinitionError, build_order, gold_inputs
from lakeforge.quality.expectations import ExpectationFailedError
from lakeforge.tables import delta
from lakeforge.tables.layout import Lakehouse

D1, D2, D3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)
ORDERS = [
    ("o1", "c1", "toys", 10.0, D1),
    ("o2", "c1", "books", 20.0, D1),
    ("o3", "c2", "toys", 5.0, D1),
    ("o4", "c2", "garden", 7.0, D2),
    ("o5", "c3", "toys", 1.0, D2),
]
ORDER_SCHEMA = "order_id string, customer_id string, category string, amount double, order_date date"
DAILY_SQL = "SELECT order_date, category, SUM(amount) AS revenue, COUNT(*) AS orders FROM orders GROUP BY order_date, category"


def pipeline(root, gold: dict) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "name": "shop",
            "platform": {"storage": {"root": str(root / "lake"), "landing": str(root / "landing")}},
            "sources": {"orders": {"kind": "files", "path": "orders", "format": "csv", "schema": {"order_id": "string"}}},
            "silver": {
                "orders": {
                    "source": "orders",
                    "keys": ["order_id"],
                    "columns": {"order_id": {}, "customer_id": {}, "category": {}, "amount": {"type": "double"}, "order_date": {"type": "date"}},
                }
            },
            "gold": gold,
        }
    )


def upsert_orders(spark, config, rows):
    df = spark.createDataFrame(rows, ORDER_SCHEMA)
    delta.merge_upsert(spark, df, Lakehouse(config.platform.storage.root).silver("orders"), ["order_id"], None)


def build(spark, config, reports=None):
    return {counts.source: counts for counts in build_gold_tables(spark, config, Lakehouse(config.platform.storage.root), "run-1", (reports if reports is not None else []).append)}


def gold(spark, config, name):
    return spark.read.format("delta").load(Lakehouse(config.platform.storage.root).gold(name))


def test_sql_and_import_path_tables_are_built_in_dependency_order_and_audited(spark, tmp_path):
    config = pipeline(
        tmp_path,
        {
            # Declared first but reads customer_spend: it must be built after it.
            "big_spenders": {"sql": "SELECT customer_id, spend FROM customer_spend WHERE spend > 20", "keys": ["customer_id"]},
            "daily_category_revenue": {"sql": DAILY_SQL, "keys": ["order_date", "category"], "partition_by": ["order_date"]},
            "customer_spend": {"transform": "pipelines.gold_transforms:build_customer_spend", "params": {"min_amount": 2.0}, "keys": ["customer_id"]},
        },
    )
    upsert_orders(spark, config, ORDERS)
    counts = build(spark, config)

    expected_daily = [Row(order_date=D1, category="toys", revenue=15.0, orders=2), Row(order_date=D1, category="books", revenue=20.0, orders=1),
                      Row(order_date=D2, category="garden", revenue=7.0, orders=1), Row(order_date=D2, category="toys", revenue=1.0, orders=1)]
    assertDataFrameEqual(gold(spark, config, "daily_category_revenue"), expected_daily)
    assertDataFrameEqual(gold(spark, config, "customer_spend"), [Row(customer_id="c1", spend=30.0, orders=2), Row(customer_id="c2", spend=12.0, orders=2)])
    assertDataFrameEqual(gold(spark, config, "big_spenders"), [Row(customer_id="c1", spend=30.0)])
    assert [(c.read, c.written, c.inserted, c.quarantined) for c in (counts["daily_category_revenue"], counts["customer_spend"], counts["big_spenders"])] == [
        (4, 4, 4, 0), (2, 2, 2, 0), (1, 1, 1, 0)
    ]
    assert all(c.layer == "gold" and c.balanced for c in counts.values())


def test_incremental_merge_changes_only_touched_keys_and_equals_a_full_rebuild(spark, tmp_path):
    config = pipeline(
        tmp_path,
        {
            "daily_incremental": {"sql": DAILY_SQL, "keys": ["order_date", "category"], "mode": "incremental"},
            "daily_full": {"sql": DAILY_SQL, "keys": ["order_date", "category"]},
        },
    )
    upsert_orders(spark, config, ORDERS)
    build(spark, config)
    # A new (D2, books) group; o1 changes its amount; o4 moves from garden (its only order) to toys.
    upsert_orders(spark, config, [("o6", "c3", "books", 4.0, D2), ("o1", "c1", "toys", 12.0, D1), ("o4", "c2", "toys", 7.0, D2)])
    counts = build(spark, config)["daily_incremental"]

    # Touched by hand: (D2, books) new, (D1, toys) and (D2, toys) recomputed, (D2, garden) gone; (D1, books) untouched.
    assert (counts.read, counts.written, counts.inserted, counts.updated) == (3, 3, 1, 2)
    path = Lakehouse(config.platform.storage.root).gold("daily_incremental")
    assert delta.last_operation_metrics(spark, path)["numTargetRowsDeleted"] == "1"
    expected = [Row(order_date=D1, category="toys", revenue=17.0, orders=2), Row(order_date=D1, category="books", revenue=20.0, orders=1),
                Row(order_date=D2, category="toys", revenue=8.0, orders=2), Row(order_date=D2, category="books", revenue=4.0, orders=1)]
    assertDataFrameEqual(gold(spark, config, "daily_incremental"), expected)
    assertDataFrameEqual(gold(spark, config, "daily_incremental"), gold(spark, config, "daily_full"))

    unchanged = build(spark, config)["daily_incremental"]
    assert (unchanged.read, unchanged.written) == (0, 0)


def test_fail_expectation_stops_the_build_with_the_rule_and_the_numbers(spark, tmp_path):
    rule = {"name": "revenue_not_negative", "expectation": "expect_column_values_to_be_between", "kwargs": {"column": "revenue", "min_value": 0}, "policy": "fail"}
    config = pipeline(tmp_path, {"daily": {"sql": DAILY_SQL, "keys": ["order_date", "category"], "expectations": [rule]}})
    upsert_orders(spark, config, [*ORDERS, ("o7", "c1", "toys", -50.0, D3)])
    reports = []
    with pytest.raises(ExpectationFailedError, match=r"revenue_not_negative.*1 of 5 rows unexpected"):
        build(spark, config, reports)
    assert reports[0].suite_name == "gold.daily" and reports[0].results["revenue_not_negative"].unexpected_count == 1
    assert not delta.exists(spark, Lakehouse(config.platform.storage.root).gold("daily"))


def test_drop_expectation_quarantines_the_row_and_the_counts_reconcile(spark, tmp_path):
    rule = {"name": "revenue_not_negative", "expectation": "expect_column_values_to_be_between", "kwargs": {"column": "revenue", "min_value": 0}}
    config = pipeline(tmp_path, {"daily": {"sql": DAILY_SQL, "keys": ["order_date", "category"], "expectations": [rule]}})
    upsert_orders(spark, config, [*ORDERS, ("o7", "c1", "toys", -50.0, D3)])
    counts = build(spark, config)["daily"]
    assert (counts.read, counts.written, counts.quarantined) == (5, 4, 1)
    quarantined = spark.read.format("delta").load(Lakehouse(config.platform.storage.root).quarantine("gold_daily")).first()
    assert quarantined["_reasons"] == ["revenue_not_negative"] and '"revenue":-50.0' in quarantined["_raw_record"]


def test_keys_that_repeat_are_an_error_naming_them(spark, tmp_path):
    config = pipeline(tmp_path, {"by_day": {"sql": "SELECT order_date, category FROM orders", "keys": ["order_date"]}})
    upsert_orders(spark, config, ORDERS)
    with pytest.raises(DuplicateGoldKeysError, match=r"gold\.by_day\.keys.*2026-01-01"):
        build(spark, config)


def test_cycles_and_unknown_tables_are_rejected_before_anything_runs(tmp_path):
    cyclic = pipeline(tmp_path, {"a": {"sql": "SELECT * FROM b", "keys": ["x"]}, "b": {"sql": "SELECT * FROM a JOIN orders USING (x)", "keys": ["x"]}})
    with pytest.raises(GoldDefinitionError, match=r"^gold: tables read each other in a cycle: (a -> b -> a|b -> a -> b)$"):
        build_order(gold_inputs(cyclic))
    unknown = pipeline(tmp_path, {"a": {"sql": "WITH t AS (SELECT * FROM orderz) SELECT * FROM t", "keys": ["x"]}})
    with pytest.raises(GoldDefinitionError, match=r"^gold\.a\.sql: reads \['orderz'\], which are not tables"):
        gold_inputs(unknown)
