"""Kafka logins, producers, topic administration and the Spark Kafka source options.

Python clients are confluent-kafka (librdkafka): about twenty times kafka-python's producer throughput
on this machine (bench/results/stream.json).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from lakeforge.config.models import read_secret
from lakeforge.streaming.config import KafkaSettings, TopicSpec


def client_options(settings: KafkaSettings) -> dict[str, str]:
    """librdkafka properties: SASL/PLAIN login to the local broker."""
    return {
        "bootstrap.servers": settings.bootstrap,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "PLAIN",
        "sasl.username": read_secret(settings.user_env),
        "sasl.password": read_secret(settings.password_env),
    }


def reliable_producer(settings: KafkaSettings, **overrides) -> Producer:
    """A producer that neither loses nor reorders a key's records across retries. Delivery reports
    (`on_delivery`) are served only by `poll()`/`flush()`, on the caller's thread."""
    options = {
        "acks": "all",  # confirmed only once every in-sync replica has it
        "enable.idempotence": True,  # retries cannot duplicate or reorder within a partition
        "linger.ms": 5,
        "batch.size": 256 * 1024,
        "delivery.timeout.ms": 300_000,  # rides out a broker restart
        "max.in.flight.requests.per.connection": 5,
        **overrides,
    }
    return Producer({**client_options(settings), **options})


def produce_waiting(producer: Producer, topic: str, value: bytes, key: bytes | None, on_delivery: Callable | None = None) -> None:
    """produce(), waiting for deliveries while the local queue is full: backpressure instead of BufferError."""
    while True:
        try:
            producer.produce(topic, value=value, key=key, on_delivery=on_delivery)
            return
        except BufferError:
            producer.poll(0.1)


def spark_options(settings: KafkaSettings) -> dict[str, str]:
    """The same login for Spark's Kafka source and sink (options prefixed with `kafka.`)."""
    user, password = read_secret(settings.user_env), read_secret(settings.password_env)
    return {
        "kafka.bootstrap.servers": settings.bootstrap,
        "kafka.security.protocol": "SASL_PLAINTEXT",
        "kafka.sasl.mechanism": "PLAIN",
        "kafka.sasl.jaas.config": (
            f'org.apache.kafka.common.security.plain.PlainLoginModule required username="{user}" password="{password}";'
        ),
    }


def ensure_topics(settings: KafkaSettings, timeout: float = 60.0) -> list[str]:
    """Create the IoT pipeline's topics that do not exist yet; returns the names created."""
    return create_missing_topics(settings, [settings.topics.telemetry, settings.topics.dead_letter, settings.topics.alerts], timeout)


def create_missing_topics(settings, specs, timeout: float = 60.0) -> list[str]:
    """Create the topics (anything with `name` and `partitions`) that do not exist yet; returns the
    names created. Waits for the broker to answer first, so it can run right after the broker starts."""
    admin = _admin_when_ready(settings, timeout)
    existing = set(admin.list_topics(timeout=10).topics)
    missing = [NewTopic(spec.name, num_partitions=spec.partitions, replication_factor=1) for spec in specs if spec.name not in existing]
    created = []
    for name, future in (admin.create_topics(missing, operation_timeout=30).items() if missing else []):
        try:
            future.result()
            created.append(name)
        except KafkaException as error:
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created


def delete_topics(settings: KafkaSettings, names: list[str]) -> None:
    admin = _admin_when_ready(settings, 30.0)
    present = [name for name in names if name in admin.list_topics(timeout=10).topics]
    for future in (admin.delete_topics(present, operation_timeout=30).values() if present else []):
        future.result()


def _admin_when_ready(settings: KafkaSettings, timeout: float) -> AdminClient:
    deadline = time.monotonic() + timeout
    admin = AdminClient(client_options(settings))
    while True:
        try:
            admin.list_topics(timeout=5)
            return admin
        except KafkaException as error:
            if time.monotonic() > deadline:
                raise ConnectionError(f"Kafka at {settings.bootstrap} is not ready after {timeout:.0f} s: {error}") from error
            time.sleep(1.0)
