"""MQTT -> Kafka bridge: at-least-once forwarding that acknowledges to MQTT only what Kafka confirmed.

A persistent MQTT session (clean_session=False, QoS 1, manual acks) means any message the bridge has
not acknowledged is redelivered after a crash or restart; the Kafka producer is idempotent with
acks=all, keyed by device so each device's readings stay in order. Duplicates that a crash can cause
are removed downstream (silver dedupes on device_id, seq).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict, dataclass

import paho.mqtt.client as mqtt

from lakeforge.streaming.config import IotConfig
from lakeforge.streaming.kafka import reliable_producer
from lakeforge.streaming.mqtt import bridge_login, connect, device_of_topic

log = logging.getLogger(__name__)


def dead_letter_reason(payload: bytes, max_bytes: int) -> str | None:
    """Why a payload cannot be forwarded as telemetry, or None when it can."""
    if len(payload) > max_bytes:
        return f"too_large: {len(payload)} bytes, the limit is {max_bytes}"
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"not_json: {error}"
    if not isinstance(document, dict):
        return f"not_json: expected a JSON object, got {type(document).__name__}"
    return None


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

    def start(self, timeout: float = 30.0) -> None:
        """Connect both sides and subscribe; returns once the broker has confirmed the subscription."""
        settings = self.config.bridge
        self._producer = reliable_producer(self.config.kafka)
        self._client = connect(
            self.config.mqtt, bridge_login(self.config.mqtt), settings.client_id, clean_session=False, manual_ack=True, on_message=self._on_message
        )
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.subscribe(self.config.mqtt.topic_filter, qos=1)
        if not self._subscribed.wait(timeout):
            raise TimeoutError(f"no SUBACK for {self.config.mqtt.topic_filter} within {timeout:.0f} s")

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

    def stats_line(self) -> str:
        with self._lock:
            return json.dumps({"bridge": asdict(self.counters), "at": time.time()})

    def shutdown(self, drain_timeout: float = 60.0) -> None:
        self._stopping = True  # messages arriving from now on are left unacknowledged, for the next run
        if self._producer is not None:
            self._producer.flush(timeout=drain_timeout)
        deadline = time.monotonic() + drain_timeout
        while self.counters.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._client is not None:
            self._client.disconnect()  # queued after the PUBACKs, so the broker gets those first
            self._client.loop_stop()
        if self._producer is not None:
            self._producer.close(timeout=10)

    def _on_message(self, client: mqtt.Client, _userdata, message: mqtt.MQTTMessage) -> None:
        # Blocks the MQTT network loop while max_in_flight messages await Kafka: backpressure to the broker.
        self._slots.acquire()
        if self._stopping:
            self._slots.release()
            return
        topics = self.config.kafka.topics
        reason = dead_letter_reason(message.payload, self.config.bridge.max_payload_bytes)
        device = device_of_topic(message.topic) or ""
        headers = [("mqtt_topic", message.topic.encode()), ("received_at", str(int(time.time() * 1000)).encode())]
        if reason is not None:
            headers.append(("reason", reason.encode()))
        with self._lock:
            self.counters.received += 1
            self.counters.in_flight += 1
        topic = topics.telemetry.name if reason is None else topics.dead_letter.name
        future = self._producer.send(topic, key=device.encode(), value=message.payload, headers=headers)
        future.add_callback(self._confirmed, client, message.mid, reason is None)
        future.add_errback(self._failed)

    def _confirmed(self, client: mqtt.Client, mid: int, forwarded: bool, _metadata) -> None:
        client.ack(mid, 1)
        with self._lock:
            self.counters.in_flight -= 1
            if forwarded:
                self.counters.forwarded += 1
            else:
                self.counters.dead_lettered += 1
        self._slots.release()

    def _failed(self, error: BaseException) -> None:
        # Not acknowledged: the broker redelivers it to the next run. Stop rather than carry on with a gap.
        with self._lock:
            self.counters.in_flight -= 1
            self.counters.failed += 1
        self.error = error
        self._slots.release()
        self.stop.set()
