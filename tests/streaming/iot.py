"""Test helpers: run commands in subprocesses and read back what landed in Kafka."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from lakeforge.config.models import PlatformConfig, SparkSettings, StorageSettings
from lakeforge.streaming.config import IotConfig, KafkaSettings, with_own_topics
from lakeforge.streaming.kafka import client_options

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".work"


def isolated_config(base: IotConfig, tmp_path: Path, **simulator) -> IotConfig:
    tag = uuid.uuid4().hex[:8]
    spark = SparkSettings(master="local[2]", shuffle_partitions=2, driver_memory="2g", jars_dir=str(WORK / "jars"), progress_bar=False, log_level="ERROR")
    return with_own_topics(base, f"t{tag}").model_copy(
        update={
            "platform": PlatformConfig(spark=spark, storage=StorageSettings(root=str(tmp_path / "lake"), landing=str(tmp_path / "in"))),
            "simulator": base.simulator.model_copy(update=simulator),
            "bridge": base.bridge.model_copy(update={"client_id": f"bridge-{tag}", "stats_interval_seconds": 1.0}),
            "stream": base.stream.model_copy(update={"max_offsets_per_trigger": 20_000}),
        }
    )


def lakeforge(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lakeforge.cli", *args], cwd=ROOT, text=True, **popen)


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    partition: int


def read_topic(settings: KafkaSettings, topic: str, expect_at_least: int = 0, quiet_seconds: float = 3.0, timeout: float = 120.0) -> list[Record]:
    """Every record of `topic`, once at least `expect_at_least` arrived and none came for `quiet_seconds`."""
    consumer = Consumer({**client_options(settings), "group.id": f"reader-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, number, OFFSET_BEGINNING) for number in partitions])  # no group: no rebalance wait
    records, last_new, deadline = [], time.monotonic(), time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for message in consumer.consume(num_messages=10_000, timeout=0.5):
                if message.error() is not None:
                    raise RuntimeError(f"reading {topic}: {message.error()}")
                records.append(Record(message.key(), message.value(), message.headers() or [], message.partition()))
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
