"""The ctr monitor: impressions and clicks per A/B variant and day from silver-shaped feedback, the
Wilson interval equal to scipy's, and a rule that fires only for the arm whose CTR fell, also through
`monitor run` over a silver interactions table."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import yaml
from helpers import write_test_overlay
from pyspark.sql.types import StringType, StructField, StructType, TimestampType
from scipy.stats import binomtest

from lakeforge.config import load_config
from lakeforge.monitoring.alerts import breaches
from lakeforge.monitoring.config import AlertRule, MonitoringConfig
from lakeforge.monitoring.ctr import ctr_by_variant
from lakeforge.monitoring.paths import MonitorPaths
from lakeforge.monitoring.run import run_monitors

DAY = datetime(2026, 5, 1)
RULE = {"name": "ctr_drop", "monitor": "ctr", "metric": "ctr_high", "threshold": 0.02, "direction": "below", "windows": 2}
SCHEMA = StructType([StructField("event_type", StringType()), StructField("variant", StringType()), StructField("event_time", TimestampType())])
# (day, variant) -> (impressions, clicks): the challenger's CTR collapses on days 1 and 2.
FEEDBACK = {(0, "champion"): (400, 40), (0, "challenger"): (300, 33), (1, "champion"): (500, 45), (1, "challenger"): (350, 1),
            (2, "champion"): (450, 41), (2, "challenger"): (320, 1), (2, "none-clicked"): (30, 0), (2, "clicks-only"): (0, 3)}


def rows() -> list[tuple]:
    out = []
    for (day, variant), (impressions, clicks) in FEEDBACK.items():
        at = DAY + timedelta(days=day, hours=12)
        out += [("impression", variant, at)] * impressions + [("click", variant, at)] * clicks
    return [*out, ("purchase", None, DAY), ("view", None, DAY)]  # interactions without a variant are not feedback


@pytest.fixture(scope="module")
def ctr(spark):
    return {(row.window_start, row.variant): row for row in spark.createDataFrame(rows(), SCHEMA).transform(ctr_by_variant("1 day", 0.95)).collect()}


def test_counts_rate_and_wilson_interval_per_variant_and_day_match_scipy(ctr):
    assert len(ctr) == len(FEEDBACK)
    for (day, variant), (impressions, clicks) in FEEDBACK.items():
        row = ctr[(DAY + timedelta(days=day), variant)]
        assert (row.impressions, row.clicks, row.window_end) == (impressions, clicks, DAY + timedelta(days=day + 1))
        if impressions == 0:
            assert (row.ctr, row.ctr_low, row.ctr_high) == (None, None, None)
            continue
        assert row.ctr == pytest.approx(clicks / impressions)
        interval = binomtest(clicks, impressions).proportion_ci(confidence_level=0.95, method="wilson")
        assert (row.ctr_low, row.ctr_high) == (pytest.approx(interval.low, abs=1e-12), pytest.approx(interval.high, abs=1e-12))


def test_a_ctr_rule_fires_for_the_arm_whose_rate_fell_in_its_latest_windows(spark, ctr):
    table = spark.createDataFrame(list(ctr.values()))
    fired = breaches(table, AlertRule(**RULE)).collect()
    assert [(alert.subject, alert.observed_at) for alert in fired] == [("variant=challenger", DAY + timedelta(days=2))]
    assert fired[0].value == pytest.approx(ctr[(DAY + timedelta(days=2), "challenger")].ctr_high)


def test_monitor_run_writes_the_ctr_table_and_raises_the_rule_from_silver_feedback(spark, tmp_path):
    conf = tmp_path / "conf"
    write_test_overlay(conf, tmp_path)
    monitoring = {"name": "recs-monitoring-test", "model": {"registered_model": "unused", "entity_key": "id", "label": "y"},
                  "rules": [RULE], "recommendations": {"silver_table": "feedback_test"}}
    (conf / "monitoring.yml").write_text(yaml.safe_dump(monitoring))
    config = load_config(conf / "monitoring.yml", MonitoringConfig, env="test")
    paths = MonitorPaths.of(config)
    spark.createDataFrame(rows(), SCHEMA).write.format("delta").save(paths.feedback)

    result = run_monitors(spark, config, now=DAY + timedelta(days=3))
    assert result.rows["ctr"] == len(FEEDBACK) == spark.read.format("delta").load(paths.ctr).count()
    assert [(alert["rule"], alert["subject"]) for alert in result.alerts] == [("ctr_drop", "variant=challenger")]
