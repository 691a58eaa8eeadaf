"""Pipeline health from real audit and stream-progress rows: a stale table breaches its freshness SLA,
a run quarantining too much and a slow, lagging stream are flagged, and the configured rules alert."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lakeforge.config import load_config
from lakeforge.monitoring.alerts import breaches
from lakeforge.monitoring.config import MonitoringConfig
from lakeforge.monitoring.health import pipeline_health
from lakeforge.streaming.progress import PROGRESS_SCHEMA
from lakeforge.tables.audit import AUDIT_SCHEMA

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 10, 12, 0)


def audit_row(run_id: str, source: str, layer: str, ended_hours_ago: float, read: int, quarantined: int, status: str = "succeeded") -> dict:
    ended = NOW - timedelta(hours=ended_hours_ago)
    return {"run_id": run_id, "job": "customer360", "source": source, "layer": layer, "started_at": ended - timedelta(minutes=5),
            "ended_at": ended, "rows_read": read, "rows_written": read - quarantined, "rows_quarantined": quarantined,
            "rows_deduplicated": 0, "rows_inserted": read - quarantined, "rows_updated": 0, "status": status, "error": None}


@pytest.fixture(scope="module")
def config() -> MonitoringConfig:
    return load_config(ROOT / "conf/monitoring.yml", MonitoringConfig, env="local")


@pytest.fixture(scope="module")
def health(spark, config):
    audit = spark.createDataFrame([
        audit_row("r1", "customers", "silver", ended_hours_ago=30, read=1000, quarantined=10),  # stale: SLA is 26 h
        audit_row("r2", "customers", "silver", ended_hours_ago=2, read=500, quarantined=0, status="failed"),  # failures do not refresh
        audit_row("r3", "customer_360", "gold", ended_hours_ago=1, read=100, quarantined=12),  # fresh, 12% quarantined
    ], AUDIT_SCHEMA)
    progress = spark.createDataFrame([
        {"query": "iot.silver", "run_id": "s", "batch_id": 7, "started_at": NOW - timedelta(minutes=10), "batch_duration_ms": 45_000,
         "num_input_rows": 10, "input_rows_per_second": 1.0, "processed_rows_per_second": 1.0, "watermark": None, "state_rows": 0,
         "rows_dropped_by_watermark": 0, "duplicates_dropped": 0},
        {"query": "iot.silver", "run_id": "s", "batch_id": 6, "started_at": NOW - timedelta(minutes=11), "batch_duration_ms": 1_000,
         "num_input_rows": 10, "input_rows_per_second": 1.0, "processed_rows_per_second": 1.0, "watermark": None, "state_rows": 0,
         "rows_dropped_by_watermark": 0, "duplicates_dropped": 0},
    ], PROGRESS_SCHEMA)
    return pipeline_health(audit, progress, config.pipeline, NOW).localCheckpoint()


def rows_of(health, check: str) -> dict:
    return {row["subject"]: row for row in health.where(f"check = '{check}'").collect()}


def test_freshness_is_minutes_since_the_latest_successful_run_against_the_sla(health):
    freshness = rows_of(health, "freshness")
    assert freshness["customers/silver"]["value"] == pytest.approx(30 * 60)
    assert freshness["customers/silver"]["usage"] == pytest.approx(30 * 60 / 1560)
    assert freshness["customer_360/gold"]["value"] == pytest.approx(60) and freshness["customer_360/gold"]["usage"] < 1


def test_a_table_that_never_loaded_is_infinitely_stale(spark, config):
    empty = spark.createDataFrame([], AUDIT_SCHEMA)
    freshness = rows_of(pipeline_health(empty, spark.createDataFrame([], PROGRESS_SCHEMA), config.pipeline, NOW), "freshness")
    assert sorted(freshness) == ["customer_360/gold", "customers/silver"]
    assert all(math.isinf(row["usage"]) and row["detail"] == "no successful run" for row in freshness.values())


def test_quarantine_share_and_stream_batches_are_measured_against_their_limits(health):
    quarantine = {(row["run_id"], row["subject"]): row["usage"] for row in health.where("check = 'quarantine'").collect()}
    assert quarantine == pytest.approx({("r1", "customer360/customers/silver"): 0.01 / 0.05, ("r2", "customer360/customers/silver"): 0.0,
                                        ("r3", "customer360/customer_360/gold"): 0.12 / 0.05})
    assert rows_of(health, "stream_batch_seconds")["iot.silver"]["value"] == 45  # the latest batch, not the earlier 1 s one
    assert rows_of(health, "stream_lag_seconds")["iot.silver"]["value"] == pytest.approx(600)


def test_configured_pipeline_rules_alert_on_each_breach_only(health, config):
    fired = sorted((rule.name, row["subject"]) for rule in config.rules if rule.monitor == "pipeline" for row in breaches(health, rule).collect())
    assert fired == [
        ("quarantine_share", "check=quarantine, subject=customer360/customer_360/gold"),
        ("slow_stream_batch", "check=stream_batch_seconds, subject=iot.silver"),
        ("stale_table", "check=freshness, subject=customers/silver"),
        ("stream_lag", "check=stream_lag_seconds, subject=iot.silver"),
    ]
