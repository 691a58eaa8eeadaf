"""The demo pipeline end to end on generated data: exact counts per layer, idempotent re-runs,
and each kind of new arrival (files, database rows, API records) picked up exactly once."""

import json
import os
from pathlib import Path

import psycopg2
import pytest
from helpers import file_statistics
from pyspark.sql import functions as F

from lakeforge.config import load_pipeline_config
from lakeforge.config.models import PlatformConfig, StorageSettings
from lakeforge.demo.api_server import start_api_server
from lakeforge.demo.generate import generate_demo, generate_increment
from lakeforge.demo.manifest import DemoManifest
from lakeforge.demo.seed_postgres import load_billing
from lakeforge.pipelines.runner import PipelineRunner

ROOT = Path(__file__).resolve().parents[2]
BILLING = "lakeforge_e2e.billing"
SOURCES = ("customers", "usage", "billing", "tickets")


@pytest.fixture(scope="module")
def demo(spark, pg_conninfo, tmp_path_factory):
    """Day 1 generated, billing in PostgreSQL, tickets served; yields what each test needs."""
    tmp = tmp_path_factory.mktemp("demo")
    with psycopg2.connect(pg_conninfo) as conn, conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS lakeforge_e2e CASCADE; CREATE SCHEMA lakeforge_e2e")
    manifest = generate_demo(tmp / "landing", tmp / "seed", customers=400, seed=11)
    load_billing(pg_conninfo, tmp / "seed" / "billing.jsonl", table=BILLING)
    tickets = json.loads((tmp / "seed" / "tickets.json").read_text())
    with start_api_server(tickets, token=os.environ["LAKEFORGE_API_TOKEN"], mode="cursor", page_size=50) as api:
        base = load_pipeline_config(ROOT / "conf/customer360.yml", env="local")
        config = base.model_copy(
            update={
                "platform": PlatformConfig(spark=base.platform.spark, storage=StorageSettings(root=str(tmp / "lake"), landing=str(tmp / "landing"))),
                "sources": {
                    **base.sources,
                    "billing": base.sources["billing"].model_copy(update={"table": BILLING}),
                    "tickets": base.sources["tickets"].model_copy(update={"url": api.url}),
                },
            }
        )
        first = PipelineRunner(spark, config).execute()
        yield {"spark": spark, "tmp": tmp, "config": config, "manifest": manifest, "first": first, "api": api, "pg": pg_conninfo}


def table(spark, config, layer, name):
    return spark.read.format("delta").load(f"{config.platform.storage.root}/{layer}/{name}")


def assert_silver_matches(run, manifest: DemoManifest, spark, config):
    for name in SOURCES:
        expected, silver = manifest.sources[name], run.layer(name, "silver")
        assert silver.read == expected.raw_rows, name
        assert silver.quarantined == sum(expected.expected_quarantined.values()), name
        assert silver.deduplicated == expected.expected_duplicates, name
        assert silver.updated == expected.expected_updated, name
        assert table(spark, config, "silver", name).count() == expected.expected_silver_rows, name


def test_first_run_counts_match_the_generated_defects_exactly(demo):
    spark, config, manifest, run = demo["spark"], demo["config"], demo["manifest"], demo["first"]
    for name in ("customers", "usage"):
        assert run.layer(name, "bronze").read == manifest.sources[name].raw_rows
    assert run.layer("billing", "bronze").read == manifest.sources["billing"].raw_rows
    assert_silver_matches(run, manifest, spark, config)
    for counts in run.layers:
        assert counts.balanced, counts


def test_bronze_files_keep_statistics_of_run_and_arrival_time_only(demo):
    root = demo["config"].platform.storage.root
    for name in SOURCES:
        bronze = file_statistics(Path(root, "bronze", name))
        assert bronze and all(set(stats["minValues"]) <= {"_run_id", "_ingested_at"} for stats in bronze), name
        assert sum(stats["numRecords"] for stats in bronze) == table(demo["spark"], demo["config"], "bronze", name).count(), name
    silver_columns = set(file_statistics(Path(root, "silver", "customers"))[0]["minValues"])
    assert {"customer_id", "tenure", "updated_at"} <= silver_columns  # silver keeps Delta's default statistics


def test_quarantine_holds_each_bad_row_with_its_reason(demo):
    spark, config, manifest = demo["spark"], demo["config"], demo["manifest"]
    for name in SOURCES:
        quarantine = table(spark, config, "quarantine", name)
        reasons = {row["reason"]: row["count"] for row in quarantine.select(F.explode("_reasons").alias("reason")).groupBy("reason").count().collect()}
        assert reasons == manifest.sources[name].expected_quarantined, name
        assert quarantine.where(F.col("_raw_record").isNull() | (F.size("_details") == 0)).count() == 0


def test_cast_failures_say_what_was_wrong(demo):
    spark, config = demo["spark"], demo["config"]
    detail = table(spark, config, "quarantine", "customers").where(F.array_contains("_reasons", "cast:tenure")).first()["_details"][0]
    assert detail.startswith("Column 'tenure' expected int, got '")


def test_warn_rules_keep_rows_and_record_counts(demo):
    spark, config, manifest = demo["spark"], demo["config"], demo["manifest"]
    validations = table(spark, config, "_system", "validations").where("suite = 'silver.customers' AND rule = 'email_format'")
    assert validations.first()["unexpected_count"] == manifest.sources["customers"].expected_warnings["email_format"]


def test_gold_has_one_row_per_customer_with_features_and_label(demo):
    spark, config, manifest = demo["spark"], demo["config"], demo["manifest"]
    gold = table(spark, config, "gold", "customer_360")
    assert gold.count() == gold.select("customer_id").distinct().count() == manifest.expected_gold_rows
    churn_rate = gold.agg(F.avg(F.col("churn").cast("double"))).first()[0]
    assert churn_rate == pytest.approx(manifest.churn_rate, abs=1e-4)
    assert {"tenure", "contract", "monthly_charges", "usage_events", "invoices", "tickets"} <= set(gold.columns)
    assert gold.where(F.col("churn").isNull()).count() == 0


def test_second_run_adds_nothing(demo):
    spark, config = demo["spark"], demo["config"]
    counts = {layer: {name: table(spark, config, layer, name).count() for name in SOURCES} for layer in ("bronze", "silver", "quarantine")}
    again = PipelineRunner(spark, config).execute()
    for name in SOURCES:
        assert again.layer(name, "bronze").read == 0, name
    assert {layer: {name: table(spark, config, layer, name).count() for name in SOURCES} for layer in counts} == counts


def test_next_day_arrivals_are_picked_up_exactly_once(demo):
    spark, config, tmp = demo["spark"], demo["config"], demo["tmp"]
    day2 = generate_increment(tmp / "landing", tmp / "seed", day=2, new_customers=40, seed=11)
    load_billing(demo["pg"], tmp / "seed" / "billing_day2.jsonl", table=BILLING)
    demo["api"].upsert_records(json.loads((tmp / "seed" / "tickets_day2.json").read_text()))

    run = PipelineRunner(spark, config).execute()
    assert run.layer("customers", "bronze").read == day2.sources["customers"].raw_rows
    assert_silver_matches(run, day2, spark, config)
    assert table(spark, config, "gold", "customer_360").count() == day2.expected_gold_rows

    again = PipelineRunner(spark, config).execute()
    assert all(again.layer(name, "bronze").read == 0 for name in SOURCES)
