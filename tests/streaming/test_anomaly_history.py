"""Each micro-batch's readings are scored against the readings before them by count, so the rules fire
at any cadence: at one reading every 5 minutes, the stuck run and the z-score's history reach far
further back than the old 10 minutes of event time."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lakeforge.config.loader import ConfigError, load_model
from lakeforge.streaming.anomalies import batch_alerts
from lakeforge.streaming.config import AnomalySettings, load_iot_config

ROOT = Path(__file__).resolve().parents[2]
START, CADENCE = datetime(2026, 1, 1), timedelta(minutes=5)
STUCK, SPIKE = range(61, 73), 80  # temperature frozen for 12 readings, then one 20-degree spike


@pytest.fixture(scope="module")
def anomalies() -> AnomalySettings:
    return load_iot_config(ROOT / "conf/iot.yml", env="local").stream.anomalies


def reading(seq: int) -> tuple:
    wobble = (seq * 7 % 5) * 0.1  # five levels in turn: never ten equal readings in a row
    temperature = 21.234 if seq in STUCK else 40.0 if seq == SPIKE else 20.0 + wobble
    return ("m-1", seq, START + seq * CADENCE, temperature, 45.0 + wobble, 2.0 + wobble, 1000.0 + wobble, 90.0 - wobble)


def alerts_on_the_last_batch(spark, settings: AnomalySettings) -> list[tuple]:
    """Silver holds 80 readings; the micro-batch is the last 11 (seq 70-80)."""
    silver = spark.createDataFrame([reading(seq) for seq in range(1, 81)],
                                   "device_id string, seq bigint, event_time timestamp, temperature double, humidity double, vibration double, pressure double, battery double")
    keys = silver.where("seq >= 70").select("device_id", "seq", "event_time")
    return sorted((row.device_id, row.seq, row.rule, row.metric) for row in batch_alerts(silver, keys, settings).collect())


def test_at_a_five_minute_cadence_the_stuck_run_and_the_spike_are_alerted(spark, anomalies):
    # The run began 45 minutes before the batch; the spike's z-score needs 10 readings (50 minutes) before it.
    assert alerts_on_the_last_batch(spark, anomalies) == [("m-1", 70, "stuck", "temperature"), ("m-1", SPIKE, "zscore", "temperature")]


def test_a_lookback_bounds_the_history_in_event_time(spark, anomalies):
    # 20 minutes before the batch hold 4 earlier readings: the stuck run's start is cut off, while the
    # spike still has 10 readings before it (the batch's own and those 4).
    assert alerts_on_the_last_batch(spark, anomalies.model_copy(update={"lookback": "20 minutes"})) == [("m-1", SPIKE, "zscore", "temperature")]


@pytest.mark.parametrize(("settings", "message"), [
    ({"history_readings": 20}, r"history_readings 20 cannot hold the 30 earlier readings the rules read \(zscore.history 30\)"),
    ({"history_readings": 8, "zscore_metrics": [], "episode_gap": 0}, r"history_readings 8 cannot hold the 9 earlier readings the rules read \(stuck_repeats 10 - 1\)"),
    ({"history_readings": 30, "episode_gap": 40}, r"history_readings 30 cannot hold the 40 earlier readings the rules read \(episode_gap 40\)"),
    ({"lookback": "ten minutes"}, r"interval 'ten minutes': expected '<number> <unit>'"),
])
def test_a_history_the_rules_cannot_work_with_is_refused_at_config_load(settings, message):
    with pytest.raises(ConfigError, match=message):
        load_model(AnomalySettings, settings, origin="test")


def test_an_incident_is_one_alert_episode(spark, anomalies):
    """A level shift of the temperature for 20 readings: one z-score alert where it starts, not one per
    reading until the history has absorbed it; with no gap, every firing reading alerts."""
    rows = [("m-1", seq, START + seq * CADENCE, 20.0 + (seq * 7 % 5) * 0.1 + (8.0 if 60 <= seq < 80 else 0.0), 45.0 + seq % 3, 2.0, 1000.0 + seq * 0.01, 90.0)
            for seq in range(1, 121)]
    readings = spark.createDataFrame(rows, "device_id string, seq bigint, event_time timestamp, temperature double, humidity double, vibration double, pressure double, battery double")
    keys = readings.select("device_id", "seq", "event_time")
    episodes = [(row.seq, row.rule, row.metric) for row in batch_alerts(readings, keys, anomalies).orderBy("seq").collect()]
    every = batch_alerts(readings, keys, anomalies.model_copy(update={"episode_gap": 0})).where("rule = 'zscore'").count()
    assert episodes == [(60, "zscore", "temperature")] and every > 1
