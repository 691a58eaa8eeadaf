"""Streaming silver applies every configured rule kind, as batch silver does: row-level drop rules
quarantine rows (test_pipeline.py), warn rules keep the rows and record the count, table-level drop
rules quarantine the micro-batch, fail rules stop the job before the micro-batch is committed."""

import json
import logging
from datetime import datetime

import pytest
from pyspark.sql import functions as F

from lakeforge.config.models import ExpectationRule
from lakeforge.streaming.config import AvailableNow, Faults
from lakeforge.streaming.job import run_stream
from lakeforge.streaming.readings import Manifest, fleet_messages
from lakeforge.quality.expectations import split_valid_and_quarantined
from lakeforge.streaming.silver import micro_batch_rules, refine_telemetry
from lakeforge.streaming.simulator import produce_kafka
from lakeforge.streaming.tables import IotTables
from lakeforge.tables import delta
from lakeforge.tables.layout import Lakehouse

DEVICES, READINGS = 2, 30


def rule(name: str, expectation: str, policy: str, **kwargs) -> ExpectationRule:
    return ExpectationRule(name=name, expectation=expectation, kwargs=kwargs, policy=policy)


def stream_with(spark, make_config, *rules: ExpectationRule) -> tuple:
    """Silver alone, caught up on 2 devices x 30 clean readings, with `rules` added to conf/iot.yml's;
    returns the config and the readings published."""
    config = make_config(devices=DEVICES, readings_per_device=READINGS, faults=Faults())
    silver = config.stream.silver.model_copy(update={"expectations": [*config.stream.silver.expectations, *rules]})
    config = config.model_copy(update={"stream": config.stream.model_copy(update={"trigger": AvailableNow(), "stages": ["silver"], "silver": silver})})
    ticks = list(fleet_messages(config.simulator, Manifest()))
    produce_kafka(config.kafka, ticks)
    readings = [message.reading for tick in ticks for message in tick]
    assert len(readings) == DEVICES * READINGS
    return config, readings


def refined_stream(spark, tmp_path, records: list[tuple[str | None, dict]], silver) -> tuple:
    """(record key, payload) pairs, as the bronze columns at offsets 0, 1, ..., refined as a stream
    (replays are dropped by streaming state); returns (valid rows, rejected rows)."""
    at = datetime(2026, 1, 1)
    rows = [(key, json.dumps(payload).encode(), "t", 0, offset, at, at) for offset, (key, payload) in enumerate(records)]
    schema = "device_key string, value binary, topic string, partition int, offset bigint, kafka_timestamp timestamp, _ingested_at timestamp"
    spark.createDataFrame(rows, schema).coalesce(1).write.parquet(str(tmp_path / "bronze"))
    name = f"refined_{tmp_path.name.replace('-', '_')}"
    refined = refine_telemetry(spark.readStream.schema(schema).parquet(str(tmp_path / "bronze")), silver, "run")
    refined.writeStream.format("memory").queryName(name).trigger(availableNow=True).start().awaitTermination()
    valid, rejected = split_valid_and_quarantined(spark.table(name))
    return valid.collect(), rejected.collect()


def reading(device: str, seq: int, **values) -> dict:
    return {"device_id": device, "seq": seq, "event_time": "2026-01-01T00:00:00.000", "temperature": 20.0, "humidity": 50.0, **values}


def test_a_rejected_reading_never_displaces_a_valid_one_of_the_same_device_and_seq(spark, iot_services, tmp_path):
    """Whichever a micro-batch sees first: a reading sent under another device's record key and an
    out-of-range reading go to quarantine, and the valid reading of their (device_id, seq) reaches silver."""
    records = [
        ("dev-0001", reading("dev-0002", 5, temperature=99.0)),  # dev-0001 claiming to be dev-0002
        ("dev-0002", reading("dev-0002", 5)),
        ("dev-0001", reading("dev-0001", 7, humidity=140.0)),
        ("dev-0001", reading("dev-0001", 7, humidity=51.0)),  # the corrected re-send
        ("dev-0002", reading("dev-0002", 5)),  # a replay
        (None, reading("dev-0003", 1)),  # no record key: nothing to check it against
    ]
    valid, rejected = refined_stream(spark, tmp_path, records, iot_services.stream.silver)
    got = sorted((row["device_id"], row["seq"], row["temperature"], row["humidity"], row["_source_ref"]) for row in valid)
    assert got == [("dev-0001", 7, 20.0, 51.0, "t/0/3"), ("dev-0002", 5, 20.0, 50.0, "t/0/1"), ("dev-0003", 1, 20.0, 50.0, "t/0/5")]
    reasons = sorted((row["_source_ref"], tuple(row["_failed_rules"]), tuple(row["_failure_details"])) for row in rejected)
    assert [(ref, rules) for ref, rules, _ in reasons] == [("t/0/0", ("record_key_mismatch",)), ("t/0/2", ("humidity_range",))]
    assert reasons[0][2] == ("record key 'dev-0001' is not the device_id 'dev-0002'",)


def test_record_keys_go_unchecked_when_no_column_is_named(spark, iot_services, tmp_path):
    silver = iot_services.stream.silver.model_copy(update={"record_key_column": None})
    valid, rejected = refined_stream(spark, tmp_path, [("gateway-1", reading("dev-0002", 5))], silver)
    assert [row["device_id"] for row in valid] == ["dev-0002"] and rejected == []


def audit_of(spark, config):
    return spark.read.format("delta").load(Lakehouse(config.platform.storage.root).system("audit"))


def test_only_row_level_drop_rules_are_left_out_of_the_micro_batch_validation():
    rules = [
        rule("present", "expect_column_values_to_not_be_null", "drop", column="seq"),
        rule("present_or_warn", "expect_column_values_to_not_be_null", "warn", column="seq"),
        rule("present_or_fail", "expect_column_values_to_not_be_null", "fail", column="seq"),
        rule("rows", "expect_table_row_count_to_be_between", "drop", min_value=1),
        rule("unique", "expect_column_values_to_be_unique", "drop", column="seq"),  # judged on the whole batch
    ]
    assert [r.name for r in micro_batch_rules(rules)] == ["present_or_warn", "present_or_fail", "rows", "unique"]


def test_a_warn_rule_keeps_its_rows_and_records_how_many_broke_it(spark, make_config, caplog):
    config, readings = stream_with(spark, make_config, rule("humidity_at_most_42", "expect_column_values_to_be_between", "warn", column="humidity", max_value=42))
    with caplog.at_level(logging.WARNING, logger="lakeforge.streaming.silver"):
        run_stream(spark, config)

    broke = sum(1 for reading in readings if reading["humidity"] > 42)
    assert 0 < broke < len(readings)
    assert spark.read.format("delta").load(IotTables.of(config).silver).count() == len(readings)
    validations = spark.read.format("delta").load(Lakehouse(config.platform.storage.root).system("validations"))
    counts = validations.where(F.col("rule") == "humidity_at_most_42").agg(F.sum("unexpected_count"), F.sum("element_count")).first()
    assert tuple(counts) == (broke, len(readings))
    assert any("humidity_at_most_42" in message and "rows unexpected" in message for message in caplog.messages)


def test_a_failed_table_level_drop_rule_quarantines_the_micro_batch(spark, make_config):
    config, readings = stream_with(spark, make_config, rule("cold_on_average", "expect_column_mean_to_be_between", "drop", column="temperature", max_value=0))
    run_stream(spark, config)

    tables = IotTables.of(config)
    assert not delta.exists(spark, tables.silver) or spark.read.format("delta").load(tables.silver).count() == 0
    quarantine = spark.read.format("delta").load(tables.quarantine)
    assert quarantine.count() == len(readings)
    assert quarantine.where(F.array_contains("_reasons", "cold_on_average")).count() == len(readings)
    detail = quarantine.select(F.element_at("_details", -1).alias("detail")).first()["detail"]
    assert detail.startswith("rule 'cold_on_average' (expect_column_mean_to_be_between column='temperature', max_value=0) failed: observed")


def test_a_failed_fail_rule_stops_the_job_before_the_micro_batch_commits(spark, make_config):
    config, _ = stream_with(spark, make_config, rule("never_above_zero", "expect_column_max_to_be_between", "fail", column="temperature", max_value=0))
    with pytest.raises(Exception, match="never_above_zero"):
        run_stream(spark, config)

    tables = IotTables.of(config)
    assert not delta.exists(spark, tables.silver) and not delta.exists(spark, tables.quarantine)
    failed = audit_of(spark, config).collect()
    assert [(row["status"], "never_above_zero" in row["error"]) for row in failed] == [("failed", True)]
