"""Test helpers: run commands in subprocesses and read back what landed in Kafka."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import yaml

from kafka import KafkaConsumer

from lakeforge.config.models import PlatformConfig, SparkSettings, StorageSettings
from lakeforge.streaming.config import IotConfig, KafkaSettings
from lakeforge.streaming.kafka import client_options

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".work"


def isolated_config(base: IotConfig, tmp_path: Path, **simulator) -> IotConfig:
    tag = uuid.uuid4().hex[:8]
    topics = base.kafka.topics.model_copy(
        update={
            "telemetry": base.kafka.topics.telemetry.model_copy(update={"name": f"t{tag}.telemetry"}),
            "dead_letter": base.kafka.topics.dead_letter.model_copy(update={"name": f"t{tag}.dead-letter"}),
            "alerts": base.kafka.topics.alerts.model_copy(update={"name": f"t{tag}.alerts"}),
        }
    )
    spark = SparkSettings(master="local[2]", shuffle_partitions=2, driver_memory="2g", jars_dir=str(WORK / "jars"), progress_bar=False, log_level="ERROR")
    return base.model_copy(
        update={
            "platform": PlatformConfig(spark=spark, storage=StorageSettings(root=str(tmp_path / "lake"), landing=str(tmp_path / "in"))),
            "kafka": base.kafka.model_copy(update={"topics": topics}),
            "simulator": base.simulator.model_copy(update=simulator),
            "bridge": base.bridge.model_copy(update={"client_id": f"bridge-{tag}", "stats_interval_seconds": 1.0}),
            "stream": base.stream.model_copy(update={"max_offsets_per_trigger": 20_000}),
        }
    )


def write_config(config: IotConfig, folder: Path) -> Path:
    """The config as conf/iot.yml plus an empty overlay, for the commands run in subprocesses."""
    (folder / "env").mkdir(parents=True, exist_ok=True)
    (folder / "env" / "local.yml").write_text("{}\n")
    path = folder / "iot.yml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True), sort_keys=False))
    return path


def lakeforge(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lakeforge.cli", *args], cwd=ROOT, text=True, **popen)


def read_topic(settings: KafkaSettings, topic: str, expect_at_least: int = 0, quiet_seconds: float = 3.0, timeout: float = 120.0) -> list:
    """Every record of `topic`, once at least `expect_at_least` arrived and none came for `quiet_seconds`."""
    consumer = KafkaConsumer(topic, **client_options(settings), auto_offset_reset="earliest", enable_auto_commit=False, group_id=None, consumer_timeout_ms=500)
    records, last_new, deadline = [], time.monotonic(), time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=500)
            for partition_records in batch.values():
                records.extend(partition_records)
                last_new = time.monotonic()
            if len(records) >= expect_at_least and time.monotonic() - last_new > quiet_seconds:
                break
        return records
    finally:
        consumer.close()


def readings_of(records: list) -> list[tuple[str, int]]:
    """(device_id, seq) of each record that is a JSON reading with both."""
    keys = []
    for record in records:
        try:
            document = json.loads(record.value)
        except ValueError:
            continue
        if isinstance(document, dict) and "device_id" in document and "seq" in document:
            keys.append((document["device_id"], int(document["seq"])))
    return keys
