"""The inference log's producer side: each answered recommendation becomes one record on a Kafka topic,
which the recs stream job lands in the Delta inference log exactly once.

Producing never waits on Kafka: the record is queued in the client and sent in the background, so a
slow or absent broker costs answers nothing. A record the client cannot queue (its buffer is full) or
deliver is counted, never raised, in `recs_inference_records_total{result}`.
"""

from __future__ import annotations

from datetime import datetime, timezone

from confluent_kafka import KafkaError

from lakeforge.recommendations.config import KafkaSpec
from lakeforge.recommendations.recommend import Recommendation
from lakeforge.serving.metrics import ServiceMetrics
from lakeforge.serving.registry import ServedModel
from lakeforge.streaming.kafka import reliable_producer
from lakeforge.tables.inference import InferenceRecord


class InferenceLogger:
    def __init__(self, kafka: KafkaSpec, topic: str, model_name: str, metrics: ServiceMetrics) -> None:
        self.topic, self.model_name, self.metrics = topic, model_name, metrics
        self.producer = reliable_producer(kafka, **{"linger.ms": 50})

    def record(self, user_id: int, k: int, served: ServedModel, ranked: Recommendation, latency_ms: float) -> None:
        record = InferenceRecord(
            model_name=self.model_name, model_version=served.version, scored_at=datetime.now(timezone.utc),
            inputs={"user_id": user_id, "k": k, "variant": served.variant, "source": ranked.source},
            prediction=None, score=ranked.scores[0] if ranked.scores else None, latency_ms=latency_ms,
            entity_id=str(user_id), outputs=[str(item) for item in ranked.item_ids],
        )
        try:
            self.producer.produce(self.topic, key=str(user_id).encode(), value=record.to_json(), on_delivery=self._delivered)
        except BufferError:
            self.metrics.inference_record("dropped")
        self.producer.poll(0)  # serves earlier delivery reports; never blocks

    def _delivered(self, error: KafkaError | None, _message) -> None:
        self.metrics.inference_record("failed" if error is not None else "delivered")

    def close(self, timeout_seconds: float = 10.0) -> None:
        """Send what is queued (a worker stopping); what is still queued after the timeout is counted lost."""
        remaining = self.producer.flush(timeout_seconds)
        for _ in range(remaining):
            self.metrics.inference_record("dropped")
