"""MQTT -> Kafka bridge: at-least-once forwarding that acknowledges to MQTT only what Kafka confirmed.

A persistent MQTT session (clean_session=False, QoS 1, manual acks) means any message the bridge has
not acknowledged is redelivered after a crash or restart; the Kafka producer (confluent-kafka, i.e.
librdkafka) is idempotent with acks=all, keyed by device so each device's readings stay in order, and
a message is acknowledged to MQTT from its delivery report. Duplicates that a crash can cause
are removed downstream (silver dedupes on device_id, seq).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial

import paho.mqtt.client as mqtt

from lakeforge.streaming.config import IotConfig
from lakeforge.streaming.kafka import ensure_topics, reliable_producer
from lakeforge.streaming.mqtt import bridge_login, connect, device_of_topic, end_session, telemetry_filter

log = logging.getLogger(__name__)

PRODUCER_LIBRARY = "confluent-kafka"  # the Kafka client the bridge forwards with (recorded by the benchmark)


def dead_letter_reason(payload: bytes, max_bytes: int, device: str | None = None) -> str | None:
    """Why a payload cannot be forwarded as telemetry, or None when it can.

    `device` is the device whose topic carried it (the broker's ACL proves it is the publisher): a
    reading that names another device_id is not accepted as either device's.
    """
    if len(payload) > max_bytes:
        return f"too_large: {len(payload)} bytes, the limit is {max_bytes}"
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"not_json: {error}"
    if not isinstance(document, dict):
        return f"not_json: expected a JSON object, got {type(document).__name__}"
    claimed = document.get("device_id")
    if device is not None and claimed is not None and claimed != device:
        return f"device_mismatch: the payload says device_id {claimed!r}, the topic belongs to {device!r}"
    return None


class KafkaDeliveryError(RuntimeError):
    """Kafka did not confirm a message within the producer's delivery timeout."""


@dataclass
class BridgeCounters:
    received: int = 0
    forwarded: int = 0
    dead_lettered: int = 0
    in_flight: int = 0
    failed: int = 0


class Bridge:
    """Runs until `stop` is set (SIGTERM in the command), then drains: every message Kafka confirms is
    acknowledged before the MQTT session is closed; the rest are redelivered to the next run."""

    def __init__(self, config: IotConfig) -> None:
        self.config = config
        self.counters = BridgeCounters()
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(config.bridge.max_in_flight)
        self._stopping = False
        self._subscribed = threading.Event()
        self._producer = None
        self._client: mqtt.Client | None = None
        self._reports_done = threading.Event()
        self._reports: threading.Thread | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Connect both sides and subscribe; returns once the broker has confirmed the subscription."""
        settings = self.config.bridge
        ensure_topics(self.config.kafka)  # the config's own topics, whatever config is in use
        self._producer = reliable_producer(self.config.kafka, **{"queue.buffering.max.messages": max(100_000, settings.max_in_flight)})
        self._reports = threading.Thread(target=self._serve_delivery_reports, name="kafka-delivery-reports", daemon=True)
        self._reports.start()
        self._client = connect(
            self.config.mqtt, bridge_login(self.config.mqtt), settings.client_id, clean_session=False, manual_ack=True, on_message=self._on_message
        )
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        telemetry = telemetry_filter(self.config.mqtt)
        self._client.subscribe(telemetry, qos=1)
        if not self._subscribed.wait(timeout):
            raise TimeoutError(f"no SUBACK for {telemetry} within {timeout:.0f} s")

    def run(self, report=print) -> BridgeCounters:
        """Forward until stopped, reporting the counters every stats_interval_seconds; then drain."""
        interval = self.config.bridge.stats_interval_seconds
        while not self.stop.wait(interval):
            report(self.stats_line())
        self.shutdown()
        report(self.stats_line())
        if self.error is not None:
            raise RuntimeError(f"the bridge stopped after a Kafka delivery failure: {self.error}") from self.error
        return self.counters

    def wait_for(self, handled: int, timeout: float) -> None:
        """Wait until `handled` messages are forwarded or dead-lettered (confirmed by Kafka)."""
        deadline = time.monotonic() + timeout
        while self.counters.forwarded + self.counters.dead_lettered < handled:
            if self.error is not None or time.monotonic() > deadline:
                raise TimeoutError(f"the bridge handled {self.counters.forwarded + self.counters.dead_lettered} of {handled} messages in {timeout:.0f} s (error: {self.error})")
            time.sleep(0.1)

    def stats_line(self) -> str:
        with self._lock:
            return json.dumps({"bridge": asdict(self.counters), "at": time.time()})

    def shutdown(self, drain_timeout: float = 60.0) -> None:
        self._stopping = True  # messages arriving from now on are left unacknowledged, for the next run
        self._reports_done.set()
        if self._reports is not None:
            self._reports.join()
        if self._producer is not None:
            self._producer.flush(drain_timeout)  # serves the remaining delivery reports, so their acks go out
        if self._client is not None:
            self._client.disconnect()  # queued after the PUBACKs, so the broker gets those first
            self._client.loop_stop()

    def _serve_delivery_reports(self) -> None:
        # librdkafka calls on_delivery only from poll(): this thread is where Kafka's confirmations land.
        while not self._reports_done.is_set():
            self._producer.poll(0.1)

    def _on_message(self, client: mqtt.Client, _userdata, message: mqtt.MQTTMessage) -> None:
        # Blocks the MQTT network loop while max_in_flight messages await Kafka: backpressure to the broker.
        self._slots.acquire()
        if self._stopping:
            self._slots.release()
            return
        topics = self.config.kafka.topics
        device = device_of_topic(self.config.mqtt, message.topic) or ""
        reason = dead_letter_reason(message.payload, self.config.bridge.max_payload_bytes, device)
        headers = [("mqtt_topic", message.topic.encode()), ("received_at", str(int(time.time() * 1000)).encode())]
        if reason is not None:
            headers.append(("reason", reason.encode()))
        with self._lock:
            self.counters.received += 1
            self.counters.in_flight += 1
        topic = topics.telemetry.name if reason is None else topics.dead_letter.name
        # The local queue holds far more than max_in_flight messages, so produce() never raises BufferError here.
        self._producer.produce(
            topic, value=message.payload, key=device.encode(), headers=headers, on_delivery=partial(self._delivered, client, message.mid, reason is None)
        )

    def _delivered(self, client: mqtt.Client, mid: int, forwarded: bool, error, _message) -> None:
        if error is None:
            client.ack(mid, 1)
        with self._lock:
            self.counters.in_flight -= 1
            if error is not None:
                self.counters.failed += 1
            elif forwarded:
                self.counters.forwarded += 1
            else:
                self.counters.dead_lettered += 1
        self._slots.release()
        if error is not None:
            # Not acknowledged: the broker redelivers it to the next run. Stop rather than carry on with a gap.
            self.error = KafkaDeliveryError(str(error))
            self.stop.set()


@contextmanager
def running_bridge(config: IotConfig, report=lambda _line: None) -> Iterator[Bridge]:
    """The bridge forwarding on a background thread, subscribed before the block starts; drained and
    stopped when it ends. `report` gets its counters every stats_interval_seconds.

    It runs on an MQTT session of its own (the configured client id plus a random suffix), ended with
    the block: a bridge that must resume where it stopped is `lakeforge bridge`.
    """
    client_id = f"{config.bridge.client_id}-{uuid.uuid4().hex[:6]}"
    bridge = Bridge(config.model_copy(update={"bridge": config.bridge.model_copy(update={"client_id": client_id})}))
    bridge.start()
    forwarding = threading.Thread(target=bridge.run, kwargs={"report": report}, name="bridge", daemon=True)
    forwarding.start()
    try:
        yield bridge
    finally:
        bridge.stop.set()
        forwarding.join(90)
        end_session(config.mqtt, bridge_login(config.mqtt), client_id)
