"""CSV replay: a file of real readings, mapped by config, is published by its devices over MQTT and
reaches silver with exactly its rows per device and its values; `lakeforge replay iot` publishes one
straight to the telemetry topic with the file's own device ids, paced by event time."""

import csv
from datetime import datetime, timedelta, timezone

import pytest
from pyspark.sql import functions as F

from lakeforge.cli import main
from lakeforge.errors import DataError
from lakeforge.streaming.bridge import running_bridge
from lakeforge.streaming.config import AvailableNow, CsvReplay
from lakeforge.streaming.job import run_stream
from lakeforge.streaming.readings import recorded_readings
from lakeforge.streaming.replay import ReplaySummary, paced, parse_metrics, replay_csv
from lakeforge.streaming.simulator import simulate
from lakeforge.streaming.tables import IotTables

ROWS_PER_SENSOR = {"boiler-7": 40, "pump-2": 25, "fan-9": 11}


def write_sensor_csv(path) -> list[dict]:
    """Readings of three sensors, interleaved, in the file's own column names; every third has no humidity."""
    start = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    rows = []
    for step in range(max(ROWS_PER_SENSOR.values())):
        for number, (sensor, count) in enumerate(ROWS_PER_SENSOR.items()):
            if step < count:
                at = start + timedelta(seconds=step, milliseconds=number)
                rows.append({"sensor": sensor, "ts": at.isoformat(timespec="milliseconds"), "temp_c": f"{20 + number + step / 100:.2f}", "rh": "" if step % 3 == 0 else f"{50 + number}.5"})
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["sensor", "ts", "temp_c", "rh"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def test_csv_replay_reaches_silver_with_exact_counts_per_device(spark, make_config, tmp_path):
    rows = write_sensor_csv(tmp_path / "readings.csv")
    replay = CsvReplay(path=str(tmp_path / "readings.csv"), device_column="sensor", time_column="ts", columns={"temperature": "temp_c", "humidity": "rh"})
    config = make_config(replay=replay)
    # silver derived from the bronze table (the rebuild path); the other streaming tests read Kafka
    silver_from_bronze = config.stream.silver.model_copy(update={"source": "bronze"})
    config = config.model_copy(update={"stream": config.stream.model_copy(update={"trigger": AvailableNow(), "stages": ["bronze", "silver"], "silver": silver_from_bronze})})

    with running_bridge(config) as bridge:
        manifest, stats = simulate(config, rate=0)
        bridge.wait_for(stats.messages, timeout=60)
    run_stream(spark, config)

    tables = IotTables.of(config)
    silver = spark.read.format("delta").load(tables.silver)
    bronze = spark.read.format("delta").load(tables.bronze)
    assert bronze.count() == len(rows)
    bronze_refs = bronze.select(F.concat_ws("/", "topic", "partition", "offset").alias("_source_ref"))
    assert silver.select("_source_ref").exceptAll(bronze_refs).count() == 0  # every silver row came through bronze
    counts = {row["device_id"]: row["count"] for row in silver.groupBy("device_id").count().collect()}
    # devices are numbered in order of first appearance in the file
    assert counts == {"dev-0001": 40, "dev-0002": 25, "dev-0003": 11}
    assert stats.messages == len(rows) == manifest.valid_count
    first_pump = silver.where((F.col("device_id") == "dev-0002") & (F.col("seq") == 2)).first()
    assert (first_pump["temperature"], first_pump["humidity"], first_pump["pressure"]) == (21.01, 51.5, None)
    assert first_pump["event_time"] == datetime(2026, 3, 1, 12, 0, 1, 1000)
    assert silver.where(F.col("humidity").isNull()).count() == sum((count + 2) // 3 for count in ROWS_PER_SENSOR.values())
    assert spark.read.format("delta").load(tables.quarantine).count() == 0  # nothing rejected, yet the table is there to read


def write_csv(path, header: list[str], rows: list[list[str]]) -> str:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def test_replay_keeps_device_ids_and_quarantines_the_rows_silver_cannot_read(spark, make_config, tmp_path):
    start = datetime(2013, 12, 2, 21, 15)
    # A fleet file: a blank between date and time, as exported data often has, 5 minutes apart.
    fleet = [["machine-1", (start + timedelta(minutes=5 * n)).strftime("%Y-%m-%d %H:%M:%S"), f"{70 + n}.5", "0.2"] for n in range(12)]
    fleet += [["pump 2", (start + timedelta(minutes=5 * n)).isoformat() + "Z", "40.0", ""] for n in range(5)]
    fleet += [["machine-1", "yesterday", "71.0", "0.2"], ["", "2013-12-02 21:20:00", "20.0", "0.1"]]
    fleet_csv = write_csv(tmp_path / "fleet.csv", ["machine", "timestamp", "value", "vib"], fleet)
    # A single-sensor file, as public machine-temperature series are: no device column at all.
    single = [[(start + timedelta(minutes=5 * n)).strftime("%Y-%m-%d %H:%M:%S"), f"{80 + n}"] for n in range(7)]
    single_csv = write_csv(tmp_path / "single.csv", ["timestamp", "value"], single)
    config = make_config()
    config = config.model_copy(update={"stream": config.stream.model_copy(update={"trigger": AvailableNow(), "stages": ["bronze", "silver"]})})

    fleet_summary = replay_csv(config, CsvReplay(path=fleet_csv, device_column="machine", time_column="timestamp", columns={"temperature": "value", "vibration": "vib"}))
    single_summary = replay_csv(config, CsvReplay(path=single_csv, device="machine-temperature", time_column="timestamp", columns={"temperature": "value"}))
    run_stream(spark, config)

    assert fleet_summary.to_dict()["readings_per_device"] == {"machine-1": 13, "pump 2": 5, None: 1}
    assert (fleet_summary.published, fleet_summary.unparsed_times, single_summary.published) == (19, 1, 7)
    assert fleet_summary.first_event == datetime(2013, 12, 2, 21, 15, tzinfo=timezone.utc)
    tables = IotTables.of(config)
    silver = spark.read.format("delta").load(tables.silver)
    counts = {row["device_id"]: row["count"] for row in silver.groupBy("device_id").count().collect()}
    assert counts == {"machine-1": 12, "pump 2": 5, "machine-temperature": 7}
    last = silver.where((F.col("device_id") == "machine-1") & (F.col("seq") == 12)).first()
    assert (last["event_time"], last["temperature"], last["vibration"]) == (datetime(2013, 12, 2, 22, 10), 81.5, 0.2)
    pump = silver.where(F.col("device_id") == "pump 2").select("event_time", "vibration").collect()
    assert sorted(row["event_time"] for row in pump) == [start + timedelta(minutes=5 * n) for n in range(5)]
    assert all(row["vibration"] is None for row in pump)
    quarantine = spark.read.format("delta").load(tables.quarantine).collect()
    assert sorted(sorted(row["_reasons"]) for row in quarantine) == [["cast:event_time", "event_time_present"], ["device_id_present"]]


def test_a_paced_replay_releases_each_reading_at_its_event_time_over_the_speed(monkeypatch):
    released: list[float] = []
    monkeypatch.setattr("lakeforge.streaming.replay.pace", released.append)
    start = datetime(2013, 12, 2, 21, 15, tzinfo=timezone.utc)
    readings = [{"device_id": "m", "seq": n + 1, "event_time": (start + timedelta(minutes=minutes)).isoformat()} for n, minutes in enumerate([0, 5, 15])]
    readings.insert(2, {"device_id": "m", "seq": 9, "event_time": "not a time"})

    summary = ReplaySummary(path="x.csv", speed=60)
    sent = [message.seq for tick in paced(readings, 60, summary) for message in tick]
    assert sent == [1, 2, 9, 3]  # file order, the unparsable one too
    assert [round(due - released[0], 6) for due in released] == [0, 5, 15]  # 5 and 15 minutes at 60x; none for "not a time"
    assert summary.unparsed_times == 1
    released.clear()
    assert len([tick for tick in paced(readings, 0, ReplaySummary(path="x.csv", speed=0))]) == 4 and released == []


def test_replay_settings_and_flags_are_checked_before_anything_is_sent(tmp_path, capsys):
    with pytest.raises(ValueError, match="device_column or"):
        CsvReplay(path="x.csv", device_column="machine", device="m-1", time_column="t", columns={"temperature": "v"})
    assert parse_metrics("value=temperature, rh=humidity") == {"temperature": "value", "humidity": "rh"}
    with pytest.raises(ValueError, match="CSV_COLUMN=METRIC"):
        parse_metrics("value:temperature")
    path = write_csv(tmp_path / "one.csv", ["timestamp", "value"], [["2013-12-02 21:15:00", "1"]])
    with pytest.raises(DataError, match=r"no column 'time'.*\['timestamp', 'value'\]"):
        list(recorded_readings(CsvReplay(path=path, device="m-1", time_column="time", columns={"temperature": "value"})))
    assert main(["replay", "iot", "--csv", path, "--time-column", "timestamp", "--metrics", "value=temperature"]) == 2
    assert "--device-column" in capsys.readouterr().err
