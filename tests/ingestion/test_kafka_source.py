"""A pipeline with a Kafka topic as a source (`kind: kafka`): the run is SIGKILLed after landing a
micro-batch in bronze and run again; bronze then holds every record once with its topic, partition and
offset, silver every valid event once, and quarantine the value that is not JSON. Avro values written
by Confluent's serializer under two versions of a schema decode with each record's own writer schema."""

import base64
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from pyspark.sql import functions as F

from lakeforge.config.models import KafkaSource
from lakeforge.errors import MissingSecretError
from lakeforge.ingestion.kafka_avro import WriterSchemas
from lakeforge.pipelines.runner import PipelineRunner
from lakeforge.streaming.services import run_script, services_status, services_up
from tests.helpers import one_source_pipeline

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 24  # valid events; with the duplicates and the malformed value, two micro-batches of at most 15
DUPLICATED = ["e3", "e7"]  # sent twice: a producer retry as the topic sees it


@pytest.fixture(scope="module")
def kafka_login():
    services_up(None, ("kafka",))  # idempotent; exports LAKEFORGE_KAFKA_* for the clients below
    return {
        "bootstrap.servers": os.environ["LAKEFORGE_KAFKA_BOOTSTRAP"],
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "PLAIN",
        "sasl.username": os.environ["LAKEFORGE_KAFKA_USER"],
        "sasl.password": os.environ["LAKEFORGE_KAFKA_PASSWORD"],
    }


@pytest.fixture
def topic(kafka_login):
    name = f"test-order-events-{uuid.uuid4().hex[:8]}"
    admin = AdminClient(kafka_login)
    admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])[name].result()
    yield name
    admin.delete_topics([name])[name].result()


def produce(login: dict, topic: str, values: list[bytes]) -> None:
    producer = Producer({**login, "enable.idempotence": True})
    for index, value in enumerate(values):
        producer.produce(topic, value=value, key=str(index % 2).encode())
    assert producer.flush(30) == 0


def event(number: int) -> bytes:
    return json.dumps({"event_id": f"e{number}", "order_id": f"o{number}", "status": "paid", "amount": f"{number}.50"}).encode()


def write_pipeline(tmp_path: Path, topic: str) -> Path:
    conf = tmp_path / "conf"
    (conf / "env").mkdir(parents=True)
    platform = {"spark": {"master": "local[2]", "shuffle_partitions": 2, "driver_memory": "1g", "jars_dir": str(ROOT / ".work/jars"), "progress_bar": False, "log_level": "ERROR"},
                "storage": {"root": str(tmp_path / "lake"), "landing": str(tmp_path / "landing")}}
    (conf / "env" / "local.yml").write_text(yaml.safe_dump({"platform": platform}))
    pipeline = {
        "name": "events",
        "sources": {
            "order_events": {
                "kind": "kafka",
                "bootstrap": "${LAKEFORGE_KAFKA_BOOTSTRAP}",
                "user_env": "LAKEFORGE_KAFKA_USER",
                "password_env": "LAKEFORGE_KAFKA_PASSWORD",
                "topics": [topic],
                "value_schema": {"event_id": "string", "order_id": "string", "status": "string", "amount": "string"},
                "max_offsets_per_trigger": 15,
            }
        },
        "silver": {
            "order_events": {
                "source": "order_events",
                "keys": ["event_id"],
                "columns": {"event_id": {}, "order_id": {}, "status": {"case": "lower"}, "amount": {"type": "decimal(10,2)"}},
                "expectations": [{"name": "event_id_present", "expectation": "expect_column_values_to_not_be_null", "kwargs": {"column": "event_id"}}],
            }
        },
    }
    path = conf / "events.yml"
    path.write_text(yaml.safe_dump(pipeline))
    return path


def ingest(config: Path, fault: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "LAKEFORGE_FAULT": fault} if fault else dict(os.environ)
    env.pop("LAKEFORGE_ENV", None)
    return subprocess.Popen([sys.executable, "-m", "lakeforge.cli", "ingest", "--config", str(config)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_records_land_exactly_once_across_a_killed_run(spark, kafka_login, topic, tmp_path):
    values = [event(n) for n in range(EVENTS)] + [event(int(e[1:])) for e in DUPLICATED] + [b"{not json"]
    produce(kafka_login, topic, values)
    config = write_pipeline(tmp_path, topic)

    # Batch 1 lands in bronze, then the process stops and is killed before the checkpoint commits it.
    killed = ingest(config, fault="order_events#1:landed=pause")
    for line in killed.stderr:
        if line.startswith("PAUSED_AT order_events#1:landed"):
            break
    else:
        pytest.fail(f"the run ended ({killed.wait()}) without reaching the fault point")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    lake = tmp_path / "lake"
    assert spark.read.format("delta").load(str(lake / "bronze/order_events")).count() == len(values)  # both batches landed

    rerun = ingest(config)
    _, errors = rerun.communicate()  # reads stderr as it comes, so a chatty run cannot fill the pipe and stall
    assert rerun.returncode == 0, errors[-3000:]

    bronze = spark.read.format("delta").load(str(lake / "bronze/order_events"))
    assert bronze.count() == bronze.select("_topic", "_partition", "_offset").distinct().count() == len(values)
    assert bronze.select("_topic").distinct().first()["_topic"] == topic
    silver = spark.read.format("delta").load(str(lake / "silver/order_events"))
    assert sorted(row["event_id"] for row in silver.collect()) == sorted(f"e{n}" for n in range(EVENTS))
    assert silver.where("event_id = 'e7'").first()["amount"] == pytest.approx(7.5)
    quarantine = spark.read.format("delta").load(str(lake / "quarantine/order_events"))
    assert [(row["_reasons"], row["_raw_record"]) for row in quarantine.collect()] == [(["malformed_record"], "{not json")]
    assert quarantine.first()["_source_ref"].startswith(f"{topic}/")


@pytest.fixture(scope="module")
def schema_registry() -> str:
    """The registry of scripts/services/schema-registry.sh, started here if it is not running (and then
    stopped again)."""
    started = not services_status(("schema-registry",))["schema-registry"]
    services_up(None, ("schema-registry",))  # exports LAKEFORGE_SCHEMA_REGISTRY_URL
    yield os.environ["LAKEFORGE_SCHEMA_REGISTRY_URL"]
    if started:
        run_script("schema-registry", "down")


def order_event_schema(*extra_fields: dict) -> str:
    fields = [{"name": "event_id", "type": "string"}, {"name": "order_id", "type": "string"},
              {"name": "status", "type": "string"}, {"name": "amount", "type": "double"}, *extra_fields]
    return json.dumps({"type": "record", "name": "OrderEvent", "namespace": "retail", "fields": fields})


def test_avro_values_decode_with_each_records_writer_schema(spark, kafka_login, topic, schema_registry, tmp_path):
    registry = SchemaRegistryClient({"url": schema_registry})
    context = SerializationContext(topic, MessageField.VALUE)
    version1 = AvroSerializer(registry, order_event_schema())
    version2 = AvroSerializer(registry, order_event_schema({"name": "channel", "type": ["null", "string"], "default": None}))
    written_by_1 = [{"event_id": f"a{n}", "order_id": f"o{n}", "status": "PAID", "amount": n + 0.25} for n in range(3)]
    written_by_2 = [{"event_id": f"b{n}", "order_id": f"o{n}", "status": "shipped", "amount": 10.0 * n, "channel": "web"} for n in range(3)]
    not_wire_format = json.dumps({"event_id": "j1"}).encode()
    unknown_schema = b"\x00" + (2**31 - 1).to_bytes(4, "big") + b"\x04j2"
    values = [version1(event, context) for event in written_by_1] + [version2(event, context) for event in written_by_2]
    produce(kafka_login, topic, [*values, not_wire_format, unknown_schema])

    source = {"kind": "kafka", "bootstrap": "${LAKEFORGE_KAFKA_BOOTSTRAP}", "user_env": "LAKEFORGE_KAFKA_USER",
              "password_env": "LAKEFORGE_KAFKA_PASSWORD", "topics": [topic], "value_format": "avro",
              "schema_registry_url": schema_registry,
              "value_schema": {"event_id": "string", "order_id": "string", "status": "string", "amount": "string", "channel": "string"}}
    silver = {"keys": ["event_id"], "columns": {"event_id": {}, "order_id": {}, "status": {"case": "lower"},
                                                 "amount": {"type": "decimal(10,2)"}, "channel": {}}}
    run = PipelineRunner(spark, one_source_pipeline(tmp_path, "order_events", source, silver)).execute()

    lake = tmp_path / "lake"
    rows = {row["event_id"]: row for row in spark.read.format("delta").load(str(lake / "silver/order_events")).collect()}
    assert sorted(rows) == ["a0", "a1", "a2", "b0", "b1", "b2"]
    assert (rows["a1"]["status"], float(rows["a1"]["amount"]), rows["a1"]["channel"]) == ("paid", 1.25, None)
    assert (rows["b2"]["status"], float(rows["b2"]["amount"]), rows["b2"]["channel"]) == ("shipped", 20.0, "web")
    quarantine = spark.read.format("delta").load(str(lake / "quarantine/order_events")).collect()
    assert sorted((row["_reasons"], base64.b64decode(row["_raw_record"])) for row in quarantine) == sorted(
        [(["malformed_record"], not_wire_format), (["malformed_record"], unknown_schema)])
    counts = run.layer("order_events", "silver")
    assert (counts.read, counts.written, counts.quarantined) == (8, 6, 2)


def test_a_registry_login_is_read_from_the_environment_variables_named(monkeypatch):
    source = KafkaSource(bootstrap="h:9092", topics=["t"], value_schema={"id": "string"}, value_format="avro",
                         schema_registry_url="http://127.0.0.1:1", registry_user_env="LF_TEST_REGISTRY_KEY",
                         registry_password_env="LF_TEST_REGISTRY_SECRET")
    monkeypatch.delenv("LF_TEST_REGISTRY_KEY", raising=False)
    with pytest.raises(MissingSecretError, match="LF_TEST_REGISTRY_KEY"):
        WriterSchemas(source)
