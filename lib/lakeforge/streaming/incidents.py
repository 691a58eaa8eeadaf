"""Labelled sensor series for judging the anomaly rules: ordinary readings (a daily cycle and noise)
with known incidents (spikes, level shifts, drifts, stuck sensors) at any cadence, and how the alerts
the rules raise on them compare with the labels.

Pure Python, no I/O: the stream benchmark (detection quality) and tests/streaming use both halves.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from lakeforge.streaming.config import METRICS

KINDS = ("spike", "level_shift", "drift", "stuck")
NOISE = {"temperature": 0.3, "humidity": 1.0, "vibration": 0.2, "pressure": 0.8, "battery": 0.05}
LEVEL = {"temperature": 21.0, "humidity": 45.0, "vibration": 2.0, "pressure": 1000.0, "battery": 90.0}
DAY = 86_400.0


@dataclass(frozen=True)
class Incident:
    """Readings [start, end) of one device's metric behave abnormally."""

    device_id: str
    metric: str
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class LabelledSeries:
    rows: list[tuple]  # (device_id, seq, event_time, *METRICS), one per reading
    incidents: list[Incident]
    readings: int  # per device
    cadence_seconds: float


def incident_shape(kind: str, noise: float, length: int) -> list[float | None]:
    """The offset each reading of an incident adds (None: the reading repeats the one before it)."""
    if kind == "spike":
        return [12 * noise]
    if kind == "level_shift":
        return [8 * noise] * length
    if kind == "drift":  # a ramp of half the noise per reading
        return [0.5 * noise * (step + 1) for step in range(length)]
    return [None] * length  # stuck


def labelled_series(devices: int, readings: int, cadence_seconds: float, seed: int = 11, gap: int = 250) -> LabelledSeries:
    """Each device cycles through the incident kinds on temperature, one incident per `gap` readings
    (after a first stretch of ordinary readings as long as the gap); the other metrics stay ordinary."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    rows, incidents = [], []
    for number in range(1, devices + 1):
        device = f"labelled-{number:03d}"
        offsets: dict[int, float | None] = {}
        for index, at in enumerate(range(gap, readings - gap // 2, gap)):
            kind = KINDS[(index + number) % len(KINDS)]
            length = {"spike": 1, "level_shift": 40, "drift": 40, "stuck": 20}[kind]
            incidents.append(Incident(device, "temperature", kind, at, at + length))
            offsets.update({at + step: offset for step, offset in enumerate(incident_shape(kind, NOISE["temperature"], length))})
        phase = rng.uniform(0, 2 * math.pi)
        previous = None
        for seq in range(1, readings + 1):
            seconds = seq * cadence_seconds
            cycle = math.sin(2 * math.pi * seconds / DAY + phase)
            values = {metric: round(LEVEL[metric] + 2 * NOISE[metric] * cycle + rng.gauss(0, NOISE[metric]), 2) for metric in METRICS}
            if seq in offsets:
                offset = offsets[seq]
                values["temperature"] = previous if offset is None else round(values["temperature"] + offset, 2)
            previous = values["temperature"]
            rows.append((device, seq, start + timedelta(seconds=seconds), *(values[metric] for metric in METRICS)))
    return LabelledSeries(rows, incidents, readings, cadence_seconds)


@dataclass(frozen=True)
class Detection:
    incidents: int
    alerted: dict[str, int]  # kind -> incidents alerted
    missed: list[Incident]
    false_episodes: int
    readings_outside_incidents: int
    delays_readings: list[int]  # incident start -> first alert, per alerted incident

    @property
    def false_episodes_per_1000(self) -> float:
        return 1000 * self.false_episodes / max(self.readings_outside_incidents, 1)

    def summary(self, cadence_seconds: float) -> dict:
        delays = sorted(self.delays_readings)
        median = statistics.median(delays) if delays else None
        return {
            "incidents": self.incidents,
            "alerted_by_kind": self.alerted,
            "missed": [f"{incident.device_id}:{incident.kind}@{incident.start}" for incident in self.missed],
            "all_alerted": not self.missed,
            "false_alert_episodes": self.false_episodes,
            "readings_outside_incidents": self.readings_outside_incidents,
            "false_alert_episodes_per_1000_readings": round(self.false_episodes_per_1000, 3),
            "median_delay_readings": median,
            "median_delay_seconds": None if median is None else median * cadence_seconds,
            "max_delay_readings": delays[-1] if delays else None,
        }


def judge(series: LabelledSeries, alerts: Iterable[tuple[str, int, str]], settle: int, episode_gap: int) -> Detection:
    """Compare alerts (device_id, seq, metric) with the labels. An alert of an incident's device and
    metric from its start to `settle` readings after its end belongs to it (a level shift's end is
    alerted too, once the history has taken the new level); any other alert is false, and false alerts
    of one device and metric less than `episode_gap` readings apart are one episode."""
    by_series: dict[tuple[str, str], list[int]] = {}
    for device, seq, metric in alerts:
        by_series.setdefault((device, metric), []).append(seq)
    alerted, missed, delays, claimed = {kind: 0 for kind in KINDS}, [], [], set()
    for incident in series.incidents:
        seqs = [seq for seq in by_series.get((incident.device_id, incident.metric), []) if incident.start <= seq < incident.end + settle]
        claimed.update((incident.device_id, incident.metric, seq) for seq in seqs)
        if seqs:
            alerted[incident.kind] += 1
            delays.append(min(seqs) - incident.start)
        else:
            missed.append(incident)
    episodes = 0
    for (device, metric), seqs in by_series.items():
        last = None
        for seq in sorted(seq for seq in seqs if (device, metric, seq) not in claimed):
            episodes += last is None or seq - last > episode_gap
            last = seq
    devices = len({row[0] for row in series.rows})
    inside = sum(incident.end - incident.start for incident in series.incidents)
    # Per reading (a row of every metric), not per metric value: a false alert on any metric counts.
    return Detection(len(series.incidents), alerted, missed, episodes, devices * series.readings - inside, delays)
