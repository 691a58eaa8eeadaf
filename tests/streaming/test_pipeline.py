"""Devices -> Mosquitto -> bridge -> Kafka -> streaming job -> Delta, with injected faults: exact counts
per device, gold equal to a recomputation from silver, every malformed payload accounted for with a
reason, and alerts exactly where spikes and a stuck sensor were injected."""

import json
from datetime import datetime

import pytest
from helpers import file_statistics
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from lakeforge.streaming.anomalies import score_readings
from lakeforge.streaming.bridge import running_bridge
from lakeforge.streaming.config import AvailableNow, Faults, topic_names
from lakeforge.streaming.gold import window_aggregates
from lakeforge.streaming.job import run_stream
from lakeforge.streaming.kafka import delete_topics, ensure_topics
from lakeforge.streaming.readings import Manifest, fleet_messages
from lakeforge.streaming.simulator import simulate
from lakeforge.streaming.tables import IotTables
from lakeforge.tables.layout import Lakehouse
from streaming.iot import isolated_config, read_topic

FAULTS = Faults(
    spike_probability=0.01, stuck_devices=1, stuck_after=40, stuck_for=20, malformed_probability=0.03,
    out_of_order_probability=0.03, late_probability=0.02, late_by=15, duplicate_probability=0.03,
)


@pytest.fixture(scope="module")
def pipeline(spark, iot_services, tmp_path_factory):
    """One run: 6 devices x 300 readings published over MQTT with faults, bridged, streamed to Delta."""
    config = isolated_config(iot_services, tmp_path_factory.mktemp("iot"), devices=6, readings_per_device=300, faults=FAULTS)
    config = config.model_copy(update={"stream": config.stream.model_copy(update={"trigger": AvailableNow()})})
    ensure_topics(config.kafka)
    with running_bridge(config) as bridge:
        manifest, _ = simulate(config, rate=0)
        bridge.wait_for(manifest.messages, timeout=120)
    run_stream(spark, config)
    yield config, manifest, IotTables.of(config)
    delete_topics(config.kafka, topic_names(config))


def load(spark, path):
    return spark.read.format("delta").load(path)


def test_silver_holds_each_reading_exactly_once_per_device(spark, pipeline):
    _, manifest, tables = pipeline
    silver = load(spark, tables.silver)
    got = {row["device_id"]: (row["n"], row["distinct_seq"]) for row in silver.groupBy("device_id").agg(F.count("*").alias("n"), F.countDistinct("seq").alias("distinct_seq")).collect()}
    assert manifest.duplicates > 0 and manifest.late > 0 and manifest.out_of_order > 0
    assert got == {device: (len(seqs), len(seqs)) for device, seqs in manifest.valid.items()}
    keys = {(row["device_id"], row["seq"]) for row in silver.select("device_id", "seq").collect()}
    assert keys == {(device, seq) for device, seqs in manifest.valid.items() for seq in seqs}


def test_silver_files_keep_statistics_of_the_columns_silver_is_read_by(spark, pipeline):
    _, _, tables = pipeline
    stats = file_statistics(tables.silver)
    assert stats and all(set(file["minValues"]) == {"device_id", "seq", "event_time", "_silver_batch"} for file in stats)
    assert sum(file["numRecords"] for file in stats) == load(spark, tables.silver).count()


def test_gold_windows_equal_a_recomputation_from_silver(spark, pipeline):
    config, _, tables = pipeline
    expected = load(spark, tables.silver).transform(window_aggregates(config.stream.gold.metrics, config.stream.gold.window))
    gold = load(spark, tables.gold)
    assert gold.count() > 0
    assertDataFrameEqual(gold.select(*expected.columns), expected, rtol=1e-9)


def test_malformed_payloads_are_dead_lettered_or_quarantined_with_a_reason(spark, pipeline):
    config, manifest, tables = pipeline
    dead = read_topic(config.kafka, config.kafka.topics.dead_letter.name, expect_at_least=manifest.dead_letter, quiet_seconds=1)
    quarantine = load(spark, tables.quarantine)
    assert manifest.dead_letter > 0 and manifest.quarantine > 0
    assert len(dead) == manifest.dead_letter
    assert all(dict(record.headers).get("reason") for record in dead)
    assert quarantine.count() == manifest.quarantine
    assert quarantine.where(F.size("_reasons") == 0).count() == 0
    reasons = {reason for row in quarantine.select(F.explode("_reasons").alias("r")).collect() for reason in [row["r"]]}
    assert reasons <= {"cast:temperature", "humidity_range", "device_id_present"}


def test_spikes_and_the_stuck_sensor_raise_alerts(spark, pipeline):
    config, manifest, tables = pipeline
    alerts = load(spark, tables.alerts)
    spiked = {(row["device_id"], row["seq"]) for row in alerts.where(F.col("metric") == "temperature").where(F.col("rule").isin("zscore", "threshold_high")).collect()}
    # Each spike is alerted, or is part of the episode of an alert at most episode_gap readings before it.
    gap = config.stream.anomalies.episode_gap
    unalerted = {(device, seq) for device, seq in manifest.spikes if not any((device, seq - back) in spiked for back in range(gap + 1))}
    assert manifest.spikes and not unalerted and spiked & manifest.spikes
    stuck = alerts.where(F.col("rule") == "stuck").select("device_id", "metric").distinct().collect()
    assert [(row["device_id"], row["metric"]) for row in stuck] == [(manifest.stuck[0][0], "temperature")]
    published = read_topic(config.kafka, config.kafka.topics.alerts.name, expect_at_least=alerts.count(), quiet_seconds=1)
    assert {record.key.decode() for record in published} == {row["alert_id"] for row in alerts.collect()}
    documents = {json.loads(record.value)["alert_id"]: json.loads(record.value) for record in published}
    for row in alerts.collect():  # each record is its alert, event time in ISO 8601 UTC
        document = documents[row["alert_id"]]
        assert (document["device_id"], document["seq"], document["metric"], document["rule"]) == (row["device_id"], row["seq"], row["metric"], row["rule"])
        assert datetime.fromisoformat(document["event_time"]).timestamp() == row["event_time"].timestamp()


def test_progress_of_every_query_is_recorded(spark, pipeline):
    _, manifest, tables = pipeline
    progress = load(spark, tables.progress)
    # Gold and alerts run inside silver's micro-batches: no query of their own reads silver again.
    assert {row["query"] for row in progress.select("query").distinct().collect()} == {"iot.bronze", "iot.silver"}
    silver_in = progress.where(F.col("query") == "iot.silver").agg(F.sum("num_input_rows")).first()[0]
    dropped = progress.where(F.col("query") == "iot.silver").agg(F.sum("duplicates_dropped")).first()[0]
    assert silver_in == manifest.messages - manifest.dead_letter
    assert dropped == manifest.duplicates


def test_bronze_and_silver_reconcile_in_the_audit_table(spark, pipeline):
    config, manifest, tables = pipeline
    audit = spark.read.format("delta").load(Lakehouse(config.platform.storage.root).system("audit"))
    rows = {(row["source"], row["layer"]): row for row in audit.collect()}
    assert set(rows) == {(config.kafka.topics.telemetry.name, "bronze"), (config.stream.silver.table, "silver")}
    in_topic = manifest.messages - manifest.dead_letter  # what the bridge forwarded to the telemetry topic
    bronze, silver = rows[(config.kafka.topics.telemetry.name, "bronze")], rows[(config.stream.silver.table, "silver")]
    assert (bronze["rows_read"], bronze["rows_written"], bronze["status"]) == (in_topic, in_topic, "succeeded")
    assert (silver["rows_read"], silver["rows_written"], silver["rows_quarantined"], silver["rows_deduplicated"]) == (
        in_topic, manifest.valid_count, manifest.quarantine, manifest.duplicates
    )
    assert silver["status"] == "succeeded" and silver["job"] == config.stream.name


def test_clean_readings_raise_no_alert(spark, iot_services):
    settings = iot_services.simulator.model_copy(update={"devices": 4, "readings_per_device": 400, "faults": Faults(drift_per_reading=0.002)})
    manifest = Manifest()
    rows = [message.reading for tick in fleet_messages(settings, manifest) for message in tick]
    readings = spark.createDataFrame(rows).withColumn("event_time", F.to_timestamp("event_time"))
    assert score_readings(readings, iot_services.stream.anomalies).count() == 0


def test_a_sensor_recovering_from_a_stuck_run_raises_only_the_stuck_alert(spark, iot_services):
    """A flat run has a standard deviation near zero: kept in the z-score history, it would turn the
    first ordinary readings after it into alerts."""
    faults = Faults(stuck_devices=2, stuck_after=40, stuck_for=40)
    settings = iot_services.simulator.model_copy(update={"devices": 2, "readings_per_device": 200, "faults": faults})
    manifest = Manifest()
    rows = [message.reading for tick in fleet_messages(settings, manifest) for message in tick]
    readings = spark.createDataFrame(rows).withColumn("event_time", F.to_timestamp("event_time"))
    alerts = score_readings(readings, iot_services.stream.anomalies).collect()
    assert sorted((row["device_id"], row["rule"], row["metric"]) for row in alerts) == [
        (device, "stuck", "temperature") for device, _ in sorted(manifest.stuck)
    ]
