"""Events to silver exactly once: the stream job is SIGKILLed after its first micro-batch and run again;
silver then holds every posted event id once, duplicates and malformed records aside."""

import os
import signal
import subprocess
import time
from pathlib import Path

from confluent_kafka import Producer
from pyspark.sql import functions as F

from lakeforge.recommendations.config import write_recs_config
from lakeforge.recommendations.stream import run_interactions_stream
from lakeforge.recommendations.tables import RecsTables
from lakeforge.recommendations.topic import ensure_recs_topics
from lakeforge.serving.events import EventPublisher
from lakeforge.serving.schemas import wire_record
from lakeforge.streaming.kafka import client_options
from recommendations.world import lakeforge, small_config

EVENTS = 1200


def committed_batches(checkpoint: str) -> int:
    commits = Path(checkpoint) / "commits"
    return len([name for name in os.listdir(commits) if name.isdigit()]) if commits.is_dir() else 0


def test_killed_stream_job_lands_each_event_once(spark, kafka_services, tmp_path):
    config = small_config(tmp_path)
    config = config.model_copy(update={"stream": config.stream.model_copy(update={"max_offsets_per_trigger": 300})})
    tables = RecsTables.of(config)
    ensure_recs_topics(config.kafka)
    records = [wire_record(f"s-{i}", i % 40, i % 25, "view" if i % 3 else "purchase", 1.0, None, None) for i in range(EVENTS)]
    publisher = EventPublisher(config.kafka)
    publisher.publish(records)
    publisher.publish(records[:50])  # a client retry: the same event ids again
    raw = Producer(client_options(config.kafka))
    raw.produce(config.kafka.interactions.name, value=b"{not json")
    raw.flush(10)

    job = lakeforge("recs", "stream", "--config", str(write_recs_config(config, tmp_path / "conf")), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while committed_batches(tables.checkpoint) < 1 and time.monotonic() < deadline and job.poll() is None:
        time.sleep(0.2)
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert committed_batches(tables.checkpoint) >= 1, "the job committed no micro-batch before the kill"

    run_interactions_stream(spark, config, available_now=True)

    silver = spark.read.format("delta").load(tables.silver)
    ids = [row.event_id for row in silver.select("event_id").collect()]
    assert sorted(ids) == sorted(record["event_id"] for record in records)
    bronze = spark.read.format("delta").load(tables.bronze)
    assert bronze.count() == bronze.select("partition", "offset").distinct().count() == EVENTS + 50 + 1
    quarantine = spark.read.format("delta").load(tables.quarantine)
    assert [row.reasons for row in quarantine.select(F.array_join("_reasons", ",").alias("reasons")).collect()] == ["malformed_record"]
    gold = spark.read.format("delta").load(tables.item_popularity)
    assert gold.agg(F.sum("interactions")).first()[0] == EVENTS
    assert {row.item_id: row.n for row in gold.groupBy("item_id").agg(F.sum("interactions").alias("n")).collect()} == {i: EVENTS // 25 for i in range(25)}
