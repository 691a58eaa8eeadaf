"""Kafka logins, producers, topic administration and the Spark Kafka source options."""

from __future__ import annotations

import time

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from lakeforge.config.models import read_secret
from lakeforge.streaming.config import KafkaSettings, TopicSpec


def client_options(settings: KafkaSettings) -> dict[str, str]:
    """kafka-python keyword arguments: SASL/PLAIN login to the local broker."""
    return {
        "bootstrap_servers": settings.bootstrap,
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": read_secret(settings.user_env),
        "sasl_plain_password": read_secret(settings.password_env),
    }


def reliable_producer(settings: KafkaSettings, **overrides) -> KafkaProducer:
    """A producer that neither loses nor reorders a key's records across retries."""
    options = {
        "acks": "all",  # confirmed only once every in-sync replica has it
        "enable_idempotence": True,  # retries cannot duplicate or reorder within a partition
        "linger_ms": 5,
        "batch_size": 256 * 1024,
        "retries": 2**31 - 1,
        "delivery_timeout_ms": 300_000,  # rides out a broker restart
        "max_in_flight_requests_per_connection": 5,
        **overrides,
    }
    return KafkaProducer(**client_options(settings), **options)


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
    """Create the configured topics that do not exist yet; returns the names created.

    Waits for the broker to describe its cluster first, so it can run right after the broker starts.
    """
    admin = _admin_when_ready(settings, timeout)
    try:
        specs: list[TopicSpec] = [settings.topics.telemetry, settings.topics.dead_letter, settings.topics.alerts]
        existing = set(admin.list_topics())
        created = []
        for spec in specs:
            if spec.name in existing:
                continue
            try:
                admin.create_topics([NewTopic(spec.name, num_partitions=spec.partitions, replication_factor=1)])
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()


def delete_topics(settings: KafkaSettings, names: list[str]) -> None:
    admin = _admin_when_ready(settings, 30.0)
    try:
        present = [name for name in names if name in set(admin.list_topics())]
        if present:
            admin.delete_topics(present)
    finally:
        admin.close()


def _admin_when_ready(settings: KafkaSettings, timeout: float) -> KafkaAdminClient:
    deadline = time.monotonic() + timeout
    while True:
        try:
            admin = KafkaAdminClient(**client_options(settings), request_timeout_ms=10_000)
            admin.describe_cluster()
            return admin
        except KafkaError as error:
            if time.monotonic() > deadline:
                raise ConnectionError(f"Kafka at {settings.bootstrap} is not ready after {timeout:.0f} s: {error}") from error
            time.sleep(1.0)
