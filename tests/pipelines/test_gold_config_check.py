"""`lakeforge validate-config FILE`: each kind of mistake in a pipeline file reported with the key or
column it concerns, without running anything; the shipped pipelines pass."""

from pathlib import Path

import pytest
import yaml

from lakeforge.cli import main
from lakeforge.pipelines.config_check import load_checked, plan_problems

ROOT = Path(__file__).resolve().parents[2]


def pipeline(gold: dict | None = None, **changes) -> dict:
    data = {
        "name": "shop",
        "platform": {"storage": {"root": "/tmp/unused/lake", "landing": "/tmp/unused/landing"}},
        "sources": {"orders": {"kind": "files", "path": "orders", "format": "csv", "schema": {"order_id": "string", "amount": "string"}}},
        "silver": {"orders": {"source": "orders", "keys": ["order_id"], "columns": {"order_id": {}, "amount": {"type": "double"}}}},
        "gold": gold or {},
    }
    return {**data, **changes}


def problems_of(tmp_path, data: dict, spark=None) -> dict[str, str]:
    path = tmp_path / "conf" / "pipeline.yml"
    (tmp_path / "conf" / "env").mkdir(parents=True, exist_ok=True)
    (tmp_path / "conf" / "env" / "local.yml").write_text("{}\n")  # an empty overlay: the file is checked as it is
    path.write_text(yaml.safe_dump(data))
    config, problems = load_checked(path, env="local")
    if config is not None and spark is not None:
        problems += plan_problems(spark, config)
    return {problem.key: problem.message for problem in problems}


def test_unknown_keys_are_reported_where_they_are(tmp_path):
    data = pipeline({"total": {"sql": "SELECT 1 AS x", "keys": ["x"], "partition": ["x"]}})
    data["sources"]["orders"]["pathh"] = "orders"
    problems = problems_of(tmp_path, data)
    assert problems == {"sources.orders.pathh": "Extra inputs are not permitted", "gold.total.partition": "Extra inputs are not permitted"}


def test_a_missing_source_is_reported_on_the_silver_table(tmp_path):
    data = pipeline()
    data["silver"]["orders"]["source"] = "ordres"
    assert problems_of(tmp_path, data) == {"silver.orders.source": "silver table 'orders' reads source 'ordres', which is not one of the sources ['orders']"}


def test_gold_sql_that_does_not_parse_or_names_unknown_tables_and_cycles(tmp_path):
    problems = problems_of(tmp_path, pipeline({
        "broken": {"sql": "SELECT FROM WHERE (", "keys": ["x"]},
        "unknown": {"sql": "SELECT order_id FROM orderz", "keys": ["order_id"]},
        "a": {"sql": "SELECT order_id FROM b", "keys": ["order_id"]},
        "b": {"sql": "SELECT order_id FROM a", "keys": ["order_id"]},
    }))
    assert set(problems) == {"gold.broken.sql", "gold.unknown.sql", "gold"}
    assert problems["gold.broken.sql"].startswith("does not parse")
    assert problems["gold.unknown.sql"].startswith("reads ['orderz'], which are not tables of this pipeline")
    assert problems["gold"] in ("tables read each other in a cycle: a -> b -> a", "tables read each other in a cycle: b -> a -> b")


def test_unknown_columns_are_found_by_planning_against_the_silver_schemas(spark, tmp_path):
    problems = problems_of(tmp_path, pipeline({
        "totals": {"sql": "SELECT order_id, SUM(amount) AS total FROM orders GROUP BY order_id", "keys": ["order_id"], "partition_by": ["day"],
                   "expectations": [{"name": "total_ok", "expectation": "expect_column_values_to_not_be_null", "kwargs": {"column": "totl"}}]},
        "typo": {"sql": "SELECT order_id, amout FROM orders", "keys": ["order_id"]},
        "from_gold": {"sql": "SELECT order_id, total * 2 AS doubled FROM totals", "keys": ["order_id"]},
        "spend": {"transform": "pipelines.gold_transforms:build_customer_spend", "params": {"min_amount": 1}, "keys": ["customer_id"]},
    }), spark)
    assert set(problems) == {"gold.totals.partition_by", "gold.totals.expectations[0].kwargs.column", "gold.typo.sql", "gold.spend.transform"}
    assert problems["gold.totals.partition_by"] == "'day' is not a column of the table's result ['order_id', 'total']"
    assert "totl" in problems["gold.totals.expectations[0].kwargs.column"]
    assert "UNRESOLVED_COLUMN" in problems["gold.typo.sql"] and "`amout`" in problems["gold.typo.sql"]
    assert "customer_id" in problems["gold.spend.transform"]  # the transform groups by a column silver.orders lacks


def test_the_shipped_pipelines_are_valid(spark):
    for path in ("conf/customer360.yml", "conf/examples/retail.yml"):
        config, problems = load_checked(ROOT / path, env="local")
        assert problems + plan_problems(spark, config) == [], path


def test_the_command_prints_each_problem_and_fails(tmp_path, capsys):
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(pipeline({"t": {"sql": "SELECT * FROM nowhere", "keys": ["x"], "mode": "sometimes"}})))
    assert main(["validate-config", str(path), "--env", "local"]) == 1
    out = capsys.readouterr().out
    assert "gold.t.mode: Input should be 'full' or 'incremental'" in out and f"{path}: 1 problem(s)" in out
