"""`lakeforge replay iot`: recorded readings from a CSV onto the telemetry topic, device ids kept.

The MQTT hop is for devices with their own logins; recorded data has no device to log in as, so the
replay writes to the Kafka topic the bridge feeds, keyed by each reading's own device id, paced by its
event times (N x real time) or as fast as the broker takes it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

from lakeforge.streaming.config import CsvReplay, IotConfig
from lakeforge.streaming.kafka import ensure_topics
from lakeforge.streaming.readings import Message, recorded_readings
from lakeforge.streaming.simulator import pace, produce_kafka


@dataclass
class ReplaySummary:
    """What a replay sent: readings per device, the event-time span, and what silver will quarantine."""

    path: str
    speed: float
    per_device: Counter = field(default_factory=Counter)
    unparsed_times: int = 0  # rows whose time does not parse: silver quarantines them (cast:event_time)
    first_event: datetime | None = None
    last_event: datetime | None = None
    published: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        devices = dict(sorted(self.per_device.items(), key=lambda item: str(item[0])))
        return {
            "path": self.path,
            "readings": sum(devices.values()),
            "devices": len(devices),
            "readings_per_device": devices if len(devices) <= 20 else "(more than 20 devices)",
            "without_device": devices.get(None, 0),
            "unparsed_times": self.unparsed_times,
            "event_time_from": self.first_event.isoformat() if self.first_event else None,
            "event_time_to": self.last_event.isoformat() if self.last_event else None,
            "speed": self.speed or "as fast as possible",
            "published": self.published,
            "seconds": round(self.seconds, 2),
            "per_second": round(self.published / self.seconds) if self.seconds else None,
        }


def parse_event_time(text: str | None) -> datetime | None:
    """ISO-8601 with "T" or a blank, with or without an offset (then UTC); None when it does not parse."""
    try:
        parsed = datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def parse_metrics(text: str) -> dict[str, str]:
    """`--metrics temp_c=temperature,rh=humidity` -> {metric: CSV column}."""
    pairs = [item.strip() for item in text.split(",") if item.strip()]
    if not pairs or any(pair.count("=") != 1 or pair.startswith("=") or pair.endswith("=") for pair in pairs):
        raise ValueError(f"--metrics takes CSV_COLUMN=METRIC pairs separated by commas, got {text!r}")
    return {metric.strip(): column.strip() for column, metric in (pair.split("=") for pair in pairs)}


def paced(readings: Iterable[dict], speed: float, summary: ReplaySummary) -> Iterator[list[Message]]:
    """Each reading as one message, released `speed` times faster than its event time moved since the
    first reading's (0: at once); a reading whose time does not parse is sent without waiting."""
    started = time.monotonic()
    for reading in readings:
        at = parse_event_time(reading["event_time"])
        summary.per_device[reading["device_id"]] += 1
        if at is None:
            summary.unparsed_times += 1
        else:
            summary.first_event = summary.first_event or at
            summary.last_event = max(summary.last_event or at, at)
            if speed:
                pace(started + (at - summary.first_event).total_seconds() / speed)
        yield [Message(reading["device_id"], reading["seq"], reading=reading)]


def replay_csv(config: IotConfig, replay: CsvReplay) -> ReplaySummary:
    """Publish every row of the replay's CSV to the config's telemetry topic (created if missing)."""
    ensure_topics(config.kafka)
    summary = ReplaySummary(path=replay.path, speed=replay.speed)
    stats = produce_kafka(config.kafka, paced(recorded_readings(replay), replay.speed, summary))
    summary.published, summary.seconds = stats.messages, stats.seconds
    return summary
