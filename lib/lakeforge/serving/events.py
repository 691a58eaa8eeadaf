"""Interactions in and out of Kafka: the publisher behind POST /events and each worker's follower."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from confluent_kafka import Consumer, KafkaError, TopicPartition

from lakeforge.recommendations.config import KafkaSpec
from lakeforge.streaming.kafka import client_options, reliable_producer

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """Kafka did not confirm every event (the client may retry: event ids make retries harmless)."""


class EventPublisher:
    """Produces records keyed by user and waits until Kafka confirms them (acks=all, idempotent)."""

    def __init__(self, kafka: KafkaSpec, timeout_seconds: float = 10.0) -> None:
        self.topic, self.timeout = kafka.interactions.name, timeout_seconds
        self.producer = reliable_producer(kafka, **{"linger.ms": 1})
        self._lock = threading.Lock()  # flush() waits for every queued record: one publish at a time

    def publish(self, records: list[dict]) -> int:
        failures: list[str] = []

        def delivered(error, _message) -> None:
            if error is not None:
                failures.append(str(error))

        with self._lock:
            for record in records:
                self.producer.produce(self.topic, key=str(record["user_id"]).encode(), value=json.dumps(record).encode(), on_delivery=delivered)
            remaining = self.producer.flush(self.timeout)
        if remaining or failures:
            raise PublishError(f"Kafka confirmed {len(records) - remaining - len(failures)} of {len(records)} events: {failures[:3] or 'timed out'}")
        return len(records)


class TopicFollower:
    """Reads every partition of the interactions topic from `since` on, in its own consumer group (so
    every worker gets every event), and hands each decoded record to `apply`."""

    def __init__(self, kafka: KafkaSpec, apply: Callable[[dict], None], poll_seconds: float) -> None:
        self.topic, self.apply, self.poll_seconds = kafka.interactions.name, apply, poll_seconds
        self.consumer = Consumer(
            {
                **client_options(kafka),
                "group.id": f"recs-serving-{uuid.uuid4().hex}",  # a group of its own: this worker sees every partition
                "enable.auto.commit": False,  # nothing to resume: a restarted worker re-reads from `since`
                "auto.offset.reset": "latest",
                "fetch.wait.max.ms": 50,
            }
        )
        self.ready = threading.Event()  # set once partitions are assigned at their starting offsets
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="topic-follower", daemon=True)
        self._since: datetime | None = None

    def start(self, since: datetime | None) -> None:
        self._since = since
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _assign(self) -> None:
        partitions = self.consumer.list_topics(self.topic, timeout=10).topics[self.topic].partitions
        at = int(self._since.timestamp() * 1000) if self._since else int(time.time() * 1000)
        offsets = self.consumer.offsets_for_times([TopicPartition(self.topic, p, at) for p in partitions], timeout=10)
        # offset -1: nothing at or after the time yet; OFFSET_END starts at the log end.
        self.consumer.assign([TopicPartition(self.topic, o.partition, o.offset if o.offset >= 0 else -1) for o in offsets])
        self.ready.set()

    def _run(self) -> None:
        try:
            self._assign()
            while not self._stop.is_set():
                message = self.consumer.poll(self.poll_seconds)
                if message is None:
                    continue
                if message.error():
                    if message.error().code() != KafkaError._PARTITION_EOF:
                        log.warning("interactions topic: %s", message.error())
                    continue
                try:
                    self.apply(json.loads(message.value()))
                except (ValueError, KeyError, TypeError) as error:
                    log.warning("skipped an undecodable record at %s/%s: %s", message.partition(), message.offset(), error)
        except Exception:
            log.exception("the interactions follower stopped; recommendations no longer see new events")
        finally:
            self.consumer.close()
