"""The inference log's producer side: each answered recommendation becomes one inference record, sent
through Kafka to the recs stream job, which lands it in the Delta inference log exactly once.

A request only appends its answer to an in-memory queue. A background thread turns the queue into one
Kafka message (a JSON array of records) every `interval_seconds`, so the request path never builds
JSON, waits on Kafka or pays the per-message cost of a broker round trip. What the client cannot queue
(its buffer full while Kafka is away) or deliver is counted in `recs_inference_records_total{result}`,
never raised.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from datetime import datetime, timezone

from confluent_kafka import KafkaError, KafkaException

from lakeforge.recommendations.config import KafkaSpec
from lakeforge.recommendations.recommend import Recommendation
from lakeforge.serving.metrics import ServiceMetrics
from lakeforge.serving.registry import ServedModel
from lakeforge.streaming.kafka import reliable_producer
from lakeforge.tables.inference import InferenceRecord

log = logging.getLogger(__name__)
MAX_RECORDS_PER_MESSAGE = 1000  # ~400 KB of JSON, well under the broker's 1 MB message limit


class InferenceLogger:
    def __init__(self, kafka: KafkaSpec, topic: str, model_name: str, metrics: ServiceMetrics, interval_seconds: float = 0.1) -> None:
        self.topic, self.model_name, self.metrics, self.interval = topic, model_name, metrics, interval_seconds
        # A bounded client buffer: while Kafka is away, records beyond it are dropped (and counted).
        self.producer = reliable_producer(kafka, **{"linger.ms": 20, "queue.buffering.max.kbytes": 65536})
        self._pending: deque[tuple] = deque()
        self._in_flight = 0  # records produced, not yet reported delivered or failed (touched by the sender only)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inference-log", daemon=True)
        self._thread.start()

    def record(self, user_id: int, k: int, served: ServedModel, ranked: Recommendation, latency_ms: float) -> None:
        """On the request path: one deque append (thread-safe, no lock)."""
        self._pending.append((time.time(), user_id, k, served.variant, served.version, ranked, latency_ms))

    def send(self) -> None:
        """Everything queued so far, as messages of up to MAX_RECORDS_PER_MESSAGE records."""
        while self._pending:
            batch = [self._pending.popleft() for _ in range(min(len(self._pending), MAX_RECORDS_PER_MESSAGE))]
            value = json.dumps([self._as_record(*answer).wire() for answer in batch]).encode()
            try:
                self.producer.produce(self.topic, value=value, on_delivery=lambda error, _message, n=len(batch): self._delivered(error, n))
                self._in_flight += len(batch)
            except BufferError:
                self.metrics.inference_records("dropped", len(batch))
            except KafkaException:
                log.exception("Kafka refused %d inference records for %s", len(batch), self.topic)
                self.metrics.inference_records("failed", len(batch))
        self.producer.poll(0)  # serves delivery reports of earlier messages

    def _as_record(self, at: float, user_id: int, k: int, variant: str, version: str, ranked: Recommendation, latency_ms: float) -> InferenceRecord:
        return InferenceRecord(
            model_name=self.model_name, model_version=version, scored_at=datetime.fromtimestamp(at, timezone.utc),
            inputs={"user_id": user_id, "k": k, "variant": variant, "source": ranked.source},
            prediction=None, score=ranked.scores[0] if ranked.scores else None, latency_ms=latency_ms,
            entity_id=str(user_id), outputs=[str(item) for item in ranked.item_ids],
        )

    def _delivered(self, error: KafkaError | None, records: int) -> None:
        self._in_flight -= records
        self.metrics.inference_records("failed" if error is not None else "delivered", records)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.send()
            except Exception:  # the sender must outlive a bad moment, or the queue would grow without end
                log.exception("sending inference records to %s failed; retrying in %.1f s", self.topic, self.interval)

    def close(self, timeout_seconds: float = 10.0) -> None:
        """Send what is queued (a worker stopping); records still undelivered after the timeout are counted dropped."""
        self._stop.set()
        self._thread.join()
        self.send()
        self.producer.flush(timeout_seconds)
        if self._in_flight:
            self.metrics.inference_records("dropped", self._in_flight)
