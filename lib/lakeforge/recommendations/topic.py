"""The recommender's topics: interactions (keyed by user, so a user's events keep their order) and the
service's inference records; created when missing."""

from __future__ import annotations

from lakeforge.recommendations.config import KafkaSpec
from lakeforge.streaming.kafka import create_missing_topics


def ensure_recs_topics(kafka: KafkaSpec) -> list[str]:
    """Create the configured topics that are missing; returns the names created."""
    return create_missing_topics(kafka, [kafka.interactions, *([kafka.inferences] if kafka.inferences else [])])
