"""CSV replay: a file of real readings, mapped by config, is published by its devices over MQTT and
reaches silver with exactly its rows per device and its values."""

import csv
from datetime import datetime, timedelta, timezone

from pyspark.sql import functions as F

from lakeforge.streaming.bridge import running_bridge
from lakeforge.streaming.config import AvailableNow, CsvReplay
from lakeforge.streaming.job import run_stream
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
