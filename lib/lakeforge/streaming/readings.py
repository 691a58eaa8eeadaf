"""Simulated sensor readings with injected faults, and the manifest of what was injected.

Pure Python, no I/O: the simulator publishes what these generators yield, and the tests compare what
the pipeline made of it with the manifest.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from lakeforge.errors import DataError
from lakeforge.streaming.config import CsvReplay, Faults, SimulatorSettings

Clock = Callable[[], datetime]

# Malformed payloads the bridge dead-letters, and those that reach silver and are quarantined there.
DEAD_LETTER_KINDS = ("not_json", "too_large", "wrong_device")
QUARANTINE_KINDS = ("bad_type", "out_of_range", "missing_device")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def device_id(number: int) -> str:
    """Device accounts provisioned by scripts/services/mosquitto.sh: dev-0001, dev-0002, ..."""
    return f"dev-{number:04d}"


@dataclass(frozen=True)
class Message:
    """One MQTT publish: a reading (encoded at publish time, with the publish time) or raw bytes."""

    device_id: str
    seq: int
    reading: dict | None = None
    raw: bytes | None = None

    def encode(self, published_at_ms: int) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps({**self.reading, "published_at": published_at_ms}, separators=(",", ":")).encode()


@dataclass
class Manifest:
    """What was sent, by kind, so the pipeline's outcome can be checked exactly."""

    valid: dict[str, set[int]] = field(default_factory=dict)  # device -> seqs of readings silver must hold
    malformed: dict[str, int] = field(default_factory=dict)  # kind -> count
    duplicates: int = 0
    late: int = 0
    out_of_order: int = 0
    spikes: set[tuple[str, int]] = field(default_factory=set)
    stuck: list[tuple[str, int]] = field(default_factory=list)  # (device, first stuck seq)
    messages: int = 0

    @property
    def dead_letter(self) -> int:
        return sum(self.malformed.get(kind, 0) for kind in DEAD_LETTER_KINDS)

    @property
    def quarantine(self) -> int:
        return sum(self.malformed.get(kind, 0) for kind in QUARANTINE_KINDS)

    @property
    def valid_count(self) -> int:
        return sum(len(seqs) for seqs in self.valid.values())

    def to_dict(self) -> dict:
        return {
            "messages": self.messages,
            "valid": self.valid_count,
            "devices": len(self.valid),
            "malformed": dict(self.malformed),
            "dead_letter": self.dead_letter,
            "quarantine": self.quarantine,
            "duplicates": self.duplicates,
            "late": self.late,
            "out_of_order": self.out_of_order,
            "spikes": len(self.spikes),
            "stuck": [list(item) for item in self.stuck],
        }


def baseline(number: int, seq: int, faults: Faults, rng: random.Random) -> dict[str, float]:
    """A healthy device's reading: a per-device level plus bounded jitter (no outliers by chance)."""

    def jitter(width: float) -> float:
        return rng.uniform(-width, width)

    return {
        "temperature": round(18 + number % 8 + jitter(0.3), 3),
        "humidity": round(40 + number % 20 + jitter(1.0), 3),
        "vibration": round(2 + jitter(0.5), 3),
        "pressure": round(1000 + faults.drift_per_reading * seq + jitter(0.5), 3),
        "battery": round(max(0.0, 100 - 0.001 * seq), 3),
    }


def malformed_message(kind: str, device: str, reading: dict, faults: Faults) -> Message:
    seq = reading["seq"]
    if kind == "not_json":
        return Message(device, seq, raw=b"\x00\xfftemperature=" + str(reading["temperature"]).encode())
    if kind == "too_large":
        return Message(device, seq, reading={**reading, "note": "x" * faults.oversize_bytes})
    if kind == "wrong_device":  # published on its own topic, claiming to be the next device
        return Message(device, seq, reading={**reading, "device_id": device_id(int(device.removeprefix("dev-")) + 1)})
    if kind == "bad_type":
        return Message(device, seq, reading={**reading, "temperature": "hot"})
    if kind == "out_of_range":
        return Message(device, seq, reading={**reading, "humidity": 140.0})
    if kind == "missing_device":
        return Message(device, seq, reading={key: value for key, value in reading.items() if key != "device_id"})
    raise ValueError(f"unknown malformed kind '{kind}', expected one of {DEAD_LETTER_KINDS + QUARANTINE_KINDS}")


def device_messages(number: int, settings: SimulatorSettings, manifest: Manifest, clock: Clock) -> Iterator[list[Message]]:
    """One device's sends, one step per reading: a step yields 0..n messages (held back, duplicated, released)."""
    faults, device = settings.faults, device_id(number)
    rng = random.Random(settings.seed * 100_003 + number)
    stuck = number <= faults.stuck_devices
    stuck_value: float | None = None
    held: list[tuple[int, Message]] = []  # (release at step, message): late and out-of-order readings
    manifest.valid.setdefault(device, set())
    if stuck:
        manifest.stuck.append((device, faults.stuck_after))
    for seq in range(1, settings.readings_per_device + 1):
        reading = {"device_id": device, "seq": seq, "event_time": clock().isoformat(timespec="milliseconds"), **baseline(number, seq, faults, rng)}
        in_stuck_run = stuck and faults.stuck_after <= seq < faults.stuck_after + faults.stuck_for
        if in_stuck_run:
            stuck_value = reading["temperature"] if stuck_value is None else stuck_value
            reading["temperature"] = stuck_value
        elif rng.random() < faults.spike_probability:
            reading["temperature"] = round(reading["temperature"] + faults.spike_size, 3)
            manifest.spikes.add((device, seq))
        out: list[Message] = []
        if rng.random() < faults.malformed_probability and not in_stuck_run:
            kind = rng.choice(DEAD_LETTER_KINDS + QUARANTINE_KINDS)
            manifest.malformed[kind] = manifest.malformed.get(kind, 0) + 1
            manifest.spikes.discard((device, seq))
            out.append(malformed_message(kind, device, reading, faults))
        else:
            message = Message(device, seq, reading=reading)
            manifest.valid[device].add(seq)
            if rng.random() < faults.late_probability:
                manifest.late += 1
                held.append((seq + faults.late_by, message))
            elif rng.random() < faults.out_of_order_probability:
                manifest.out_of_order += 1
                held.append((seq + 1, message))
            else:
                out.append(message)
            if rng.random() < faults.duplicate_probability:
                manifest.duplicates += 1
                out.append(message)
        out.extend(message for release, message in held if release <= seq)
        held = [(release, message) for release, message in held if release > seq]
        manifest.messages += len(out)
        yield out
    manifest.messages += len(held)
    yield [message for _, message in held]


def fleet_messages(settings: SimulatorSettings, manifest: Manifest, clock: Clock = utc_now) -> Iterator[list[Message]]:
    """All devices' sends interleaved: each yielded list is one step of every device (one 'tick')."""
    devices = [device_messages(number, settings, manifest, clock) for number in range(1, settings.devices + 1)]
    while devices:
        tick, alive = [], []
        for device in devices:
            step = next(device, None)
            if step is not None:
                tick.extend(step)
                alive.append(device)
        devices = alive
        yield tick


def recorded_readings(replay: CsvReplay) -> Iterator[dict]:
    """The CSV's rows as readings, in file order: the file's own device ids, a seq per device counting
    from 1, the time as written (silver parses it; a row it cannot parse goes to quarantine)."""
    seqs: dict[str | None, int] = {}
    with Path(replay.path).open(newline="") as handle:
        rows = csv.DictReader(handle)
        named = [replay.device_column, replay.time_column, *replay.columns.values()]
        missing = [column for column in named if column is not None and column not in (rows.fieldnames or [])]
        if missing:
            raise DataError(f"{replay.path} has no column {', '.join(map(repr, missing))}; its columns are {rows.fieldnames}")
        for row in rows:
            device = replay.device if replay.device_column is None else (row.get(replay.device_column) or None)
            seq = seqs[device] = seqs.get(device, 0) + 1
            metrics = {metric: _number(row.get(column)) for metric, column in replay.columns.items()}
            yield {"device_id": device, "seq": seq, "event_time": row.get(replay.time_column), **metrics}


def replay_messages(replay: CsvReplay, manifest: Manifest) -> Iterator[list[Message]]:
    """A CSV of real readings as MQTT devices: each distinct device maps to the next provisioned account
    (the broker lets a device publish only as itself; `lakeforge replay iot` keeps the ids instead)."""
    accounts: dict[str | None, str] = {}
    for reading in recorded_readings(replay):
        device = accounts.setdefault(reading["device_id"], device_id(len(accounts) + 1))
        manifest.valid.setdefault(device, set()).add(reading["seq"])
        manifest.messages += 1
        yield [Message(device, reading["seq"], reading={**reading, "device_id": device})]


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None
