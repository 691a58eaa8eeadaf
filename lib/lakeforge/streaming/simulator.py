"""Publish simulated (or replayed) readings: over MQTT as the devices themselves, or straight to Kafka."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from lakeforge.streaming.config import IotConfig, KafkaSettings, MqttSettings
from lakeforge.streaming.kafka import ensure_topics, produce_waiting, reliable_producer
from lakeforge.streaming.mqtt import connect, device_login, device_topic
from lakeforge.streaming.readings import Manifest, Message, device_id, fleet_messages, replay_messages


@dataclass(frozen=True)
class PublishStats:
    messages: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


class _Acks:
    """Counts PUBACKs, so the publisher can wait until the broker has every QoS 1 message."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()

    def on_publish(self, _client, _userdata, _mid, _reason_code, _properties) -> None:
        with self.changed:
            self.count += 1
            self.changed.notify_all()

    def wait_for(self, expected: int, timeout: float) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: self.count >= expected, timeout):
                raise TimeoutError(f"the broker acknowledged {self.count} of {expected} QoS 1 messages within {timeout:.0f} s")


def publish_mqtt(
    settings: MqttSettings,
    ticks: Iterable[list[Message]],
    devices: list[str],
    ticks_per_second: float | None,
    client_prefix: str = "sim",
) -> PublishStats:
    """Each device logs in as itself and publishes its readings with QoS 1, `ticks_per_second` steps a
    second (None: as fast as possible); returns once the broker has acknowledged every message."""
    acks = _Acks()
    clients: dict[str, mqtt.Client] = {}
    try:
        for device in devices:
            client = connect(settings, device_login(settings, device), f"{client_prefix}-{device}")
            client.on_publish = acks.on_publish
            clients[device] = client
        sent, started = 0, time.monotonic()
        for number, tick in enumerate(ticks):
            if ticks_per_second:
                pace(started + number / ticks_per_second)
            for message in tick:
                now_ms = int(time.time() * 1000)
                clients[message.device_id].publish(device_topic(settings, message.device_id), message.encode(now_ms), qos=1)
                sent += 1
        acks.wait_for(sent, timeout=120)
        return PublishStats(sent, time.monotonic() - started)
    finally:
        for client in clients.values():
            client.disconnect()
            client.loop_stop()


def produce_kafka(settings: KafkaSettings, ticks: Iterable[list[Message]]) -> PublishStats:
    """The fast path for volume tests: the same payloads written straight to the telemetry topic."""
    producer, failures = reliable_producer(settings), []

    def on_delivery(error, _message) -> None:
        if error is not None:
            failures.append(error)

    sent, started = 0, time.monotonic()
    for tick in ticks:
        for message in tick:
            payload = message.encode(int(time.time() * 1000))
            key = message.device_id.encode() if message.device_id else None  # unkeyed: silver quarantines it
            produce_waiting(producer, settings.topics.telemetry.name, payload, key, on_delivery)
            sent += 1
        producer.poll(0)  # serve delivery reports as they come
    pending = producer.flush(120)
    if pending or failures:
        raise RuntimeError(f"Kafka did not confirm {pending + len(failures)} of {sent} records: {failures[:3]}")
    return PublishStats(sent, time.monotonic() - started)


def simulate(config: IotConfig, via: str = "mqtt", rate: float | None = None) -> tuple[Manifest, PublishStats]:
    """Run the configured fleet (or CSV replay) once; `rate` overrides readings per device per second
    (0: unpaced)."""
    manifest = Manifest()
    sim = config.simulator
    ticks = replay_messages(sim.replay, manifest) if sim.replay else fleet_messages(sim, manifest)
    if via == "kafka":
        ensure_topics(config.kafka)
        return manifest, produce_kafka(config.kafka, ticks)
    # A replay's devices are known only once the file is read: materialise it (it is finite and small).
    ticks = list(ticks) if sim.replay else ticks
    devices = sorted(manifest.valid) if sim.replay else [device_id(n) for n in range(1, sim.devices + 1)]
    per_second = sim.rate_per_device if rate is None else rate
    return manifest, publish_mqtt(config.mqtt, ticks, devices, per_second or None)


def pace(due: float) -> None:
    delay = due - time.monotonic()
    if delay > 0:
        time.sleep(delay)
