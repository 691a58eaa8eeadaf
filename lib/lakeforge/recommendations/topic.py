"""The interactions topic: created when missing, keyed by user so a user's events keep their order."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from lakeforge.recommendations.config import KafkaSpec
from lakeforge.streaming.kafka import client_options


def ensure_interactions_topic(kafka: KafkaSpec) -> bool:
    """Create the topic if it is missing; True if this call created it."""
    admin = AdminClient(client_options(kafka))
    spec = kafka.interactions
    if spec.name in admin.list_topics(timeout=10).topics:
        return False
    future = admin.create_topics([NewTopic(spec.name, num_partitions=spec.partitions, replication_factor=1)], operation_timeout=30)[spec.name]
    try:
        future.result()
    except KafkaException as error:
        if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise
        return False
    return True
