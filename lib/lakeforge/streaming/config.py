"""Config of the IoT pipeline (conf/iot.yml): brokers, simulator, bridge, streaming job, anomaly rules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import Field, model_validator

from lakeforge.config.loader import load_config
from lakeforge.config.models import ColumnRule, ExpectationRule, PlatformConfig, StrictModel

METRICS = ("temperature", "humidity", "vibration", "pressure", "battery")


class MqttSettings(StrictModel):
    host: str = "127.0.0.1"
    port: int = 21883
    # Devices publish to [<topic_prefix>/]devices/<device_id>/telemetry; the broker's ACL allows nothing
    # else. A test, demo or benchmark run publishes under a prefix of its own, runs/<tag>, so a bridge's
    # persistent session (subscribed under another prefix, or none) never queues its messages.
    topic_prefix: str = Field(default="", pattern=r"^(runs/[A-Za-z0-9_.-]+)?$")
    bridge_user_env: str = "LAKEFORGE_MQTT_BRIDGE_USER"
    bridge_password_env: str = "LAKEFORGE_MQTT_BRIDGE_PASSWORD"
    device_secret_env: str = "LAKEFORGE_MQTT_DEVICE_SECRET"  # device passwords are derived from it
    keepalive_seconds: int = 30


class TopicSpec(StrictModel):
    name: str
    partitions: int = Field(default=1, ge=1)


class KafkaTopics(StrictModel):
    telemetry: TopicSpec
    dead_letter: TopicSpec
    alerts: TopicSpec


class KafkaSettings(StrictModel):
    bootstrap: str = "127.0.0.1:29092"
    user_env: str = "LAKEFORGE_KAFKA_USER"
    password_env: str = "LAKEFORGE_KAFKA_PASSWORD"
    topics: KafkaTopics


class Faults(StrictModel):
    """Per-reading probabilities of each injected defect (0 disables it)."""

    spike_probability: float = Field(default=0.0, ge=0, le=1)
    spike_size: float = 40.0  # added to the temperature
    stuck_devices: int = Field(default=0, ge=0)  # the first N devices' temperature freezes
    stuck_after: int = 50  # ...from this seq on
    stuck_for: int = 30  # ...for this many readings
    drift_per_reading: float = 0.0  # slow drift of the pressure
    malformed_probability: float = Field(default=0.0, ge=0, le=1)
    out_of_order_probability: float = Field(default=0.0, ge=0, le=1)  # swapped with the next reading
    late_probability: float = Field(default=0.0, ge=0, le=1)
    late_by: int = 20  # readings a late one is held back
    duplicate_probability: float = Field(default=0.0, ge=0, le=1)
    oversize_bytes: int = 100_000  # size of an injected too-large payload


class CsvReplay(StrictModel):
    """Replay a CSV of recorded sensor readings, in file order, each reading under its device's id."""

    path: str
    device_column: str | None = None  # the column naming each row's device...
    device: str | None = None  # ...or the one device of a single-sensor file
    time_column: str  # ISO-8601 ("2013-12-02 21:15:00" too); a time without an offset is UTC
    columns: dict[str, str]  # metric -> CSV column; metrics absent here are sent as null
    speed: float = Field(default=0.0, ge=0)  # `lakeforge replay`: 0 as fast as possible, N: N x real time

    @model_validator(mode="after")
    def _one_device_source(self) -> CsvReplay:
        if (self.device_column is None) == (self.device is None):
            raise ValueError("a replay names its devices by device_column or gives the one device's id as device, not both")
        return self


class SimulatorSettings(StrictModel):
    devices: int = Field(default=10, ge=1)
    readings_per_device: int = Field(default=200, ge=1)
    rate_per_device: float = Field(default=5.0, gt=0)  # readings per second; the publisher paces to it
    seed: int = 7
    faults: Faults = Field(default_factory=Faults)
    replay: CsvReplay | None = None


class BridgeSettings(StrictModel):
    client_id: str = "lakeforge-bridge"
    max_in_flight: int = Field(default=2000, ge=1)  # received but not yet confirmed by Kafka
    max_payload_bytes: int = Field(default=65_536, ge=1)  # larger payloads are dead-lettered
    stats_interval_seconds: float = 10.0


class ProcessingTime(StrictModel):
    kind: Literal["processing_time"] = "processing_time"
    interval: str = "1 second"


class AvailableNow(StrictModel):
    kind: Literal["available_now"] = "available_now"


Trigger = Annotated[ProcessingTime | AvailableNow, Field(discriminator="kind")]


class SilverSettings(StrictModel):
    table: str = "iot_telemetry"
    # kafka: silver reads the telemetry topic itself, beside bronze, so a reading is queryable one
    # micro-batch after it reaches Kafka instead of two. bronze: silver is derived from the bronze
    # table (to rebuild it from the raw records). Switching on an existing lakehouse needs a new silver
    # table and checkpoint: the checkpoint's offsets belong to one source.
    source: Literal["kafka", "bronze"] = "kafka"
    columns: dict[str, ColumnRule]
    expectations: list[ExpectationRule] = Field(default_factory=list)
    # A (device_id, seq) seen again within this much event time is a duplicate; older arrivals are
    # dropped and counted in the progress table (rows_dropped_by_watermark).
    watermark: str = "10 minutes"
    # The payload column each Kafka record's key must equal: a reading sent under another device's key
    # is quarantined (as the bridge refuses it on MQTT) instead of displacing that device's own reading.
    # null when producers key records otherwise (by gateway, or not at all).
    record_key_column: str | None = "device_id"


class GoldSettings(StrictModel):
    table: str = "iot_device_windows"
    window: str = "1 minute"
    # Late rows within this delay update their window; later ones are dropped and counted.
    watermark: str = "2 minutes"
    metrics: list[str] = Field(default_factory=lambda: list(METRICS))
    trigger: Trigger = Field(default_factory=lambda: ProcessingTime(interval="15 seconds"))  # see conf/iot.yml


def interval_seconds(interval: str) -> float:
    """'10 minutes' -> 600.0 (the interval strings Spark accepts for watermarks and triggers)."""
    amount, _, unit = interval.strip().partition(" ")
    scale = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}
    key = unit.strip().rstrip("s")
    try:
        return float(amount) * scale[key]
    except (KeyError, ValueError):
        raise ValueError(f"interval '{interval}': expected '<number> <unit>', the unit one of seconds, minutes, hours, days, weeks") from None


class Threshold(StrictModel):
    """Fixed bounds of one metric, in the unit the devices send it in (named, so a config says what it
    assumes: bounds in degrees Celsius fire on nearly every reading of a sensor reporting Fahrenheit)."""

    unit: str
    min: float | None = None
    max: float | None = None


class ZScore(StrictModel):
    """How far a reading is from the device's previous readings of the metric, in units of their spread.

    median_mad: |x - median| / (1.4826 MAD), robust: a spike in the history moves neither the centre nor
    the spread much, so it does not hide the next one (with mean_std it inflates the standard deviation
    for `history` readings). Unit-free: the same threshold holds in any unit.
    """

    method: Literal["median_mad", "mean_std"] = "median_mad"
    history: int = Field(default=60, ge=2)  # previous readings of the same device and metric
    # ...ending this many readings before the one scored: a slow drift is measured against readings from
    # before it began, not against its own last steps (with 0, the history follows a ramp and never alerts).
    skip_recent: int = Field(default=5, ge=0)
    min_history: int = Field(default=10, ge=2)
    threshold: float = 5.0


class AnomalySettings(StrictModel):
    table: str = "iot_alerts"
    thresholds: dict[str, Threshold] = Field(default_factory=dict)
    zscore: ZScore = Field(default_factory=ZScore)
    zscore_metrics: list[str] = Field(default_factory=lambda: list(METRICS))
    stuck_repeats: int = Field(default=10, ge=2)  # identical consecutive readings that mean a stuck sensor
    stuck_metrics: list[str] = Field(default_factory=lambda: ["temperature", "humidity", "pressure"])
    # Each micro-batch's readings are scored against the readings of the same device before them in
    # silver: the `history_readings` seqs before the device's first in the batch, whatever the cadence
    # (a reading a second or one every 5 minutes), and only those within `lookback` of event time when
    # it is set (e.g. "1 day": a device silent longer starts afresh).
    history_readings: int = Field(default=65, ge=1)
    lookback: str | None = None
    # A rule alerts for a metric once per episode: again only after this many readings without firing.
    episode_gap: int = Field(default=10, ge=0)
    trigger: Trigger = Field(default_factory=lambda: ProcessingTime(interval="5 seconds"))

    @model_validator(mode="after")
    def _history_holds_what_the_rules_read(self) -> AnomalySettings:
        zscore = self.zscore.history + self.zscore.skip_recent
        needs = {f"zscore.history {self.zscore.history} + skip_recent {self.zscore.skip_recent}": zscore if self.zscore_metrics else 0,
                 f"stuck_repeats {self.stuck_repeats} - 1": self.stuck_repeats - 1 if self.stuck_metrics else 0,
                 f"episode_gap {self.episode_gap}": self.episode_gap}
        rule, needed = max(needs.items(), key=lambda item: item[1])
        if self.history_readings < needed:
            raise ValueError(f"anomalies.history_readings {self.history_readings} cannot hold the {needed} earlier readings the rules read ({rule})")
        if self.lookback is not None:
            interval_seconds(self.lookback)
        return self


class StreamSettings(StrictModel):
    name: str = "iot"
    bronze_table: str = "iot_telemetry"
    progress_table: str = "stream_progress"
    trigger: Trigger = Field(default_factory=ProcessingTime)  # silver: the latency path (it reads Kafka itself)
    # Bronze archives the same records off the latency path: fewer, larger batches leave the cores to silver.
    bronze_trigger: ProcessingTime = Field(default_factory=lambda: ProcessingTime(interval="10 seconds"))
    max_offsets_per_trigger: int = Field(default=50_000, ge=1)
    starting_offsets: Literal["earliest", "latest"] = "earliest"
    progress_flush_seconds: float = 5.0
    # Bronze's and silver's micro-batches are reconciled and recorded in the audit table (`lakeforge
    # runs`) as one run per this many seconds of the job.
    audit_seconds: float = Field(default=60.0, gt=0)
    # The queries this job runs; a job of only bronze and silver leaves gold and alerts to another.
    stages: list[Literal["bronze", "silver", "gold", "alerts"]] = Field(default_factory=lambda: ["bronze", "silver", "gold", "alerts"])
    silver: SilverSettings
    gold: GoldSettings = Field(default_factory=GoldSettings)
    anomalies: AnomalySettings = Field(default_factory=AnomalySettings)


class IotConfig(StrictModel):
    name: str = "iot"
    platform: PlatformConfig
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    kafka: KafkaSettings
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
    bridge: BridgeSettings = Field(default_factory=BridgeSettings)
    stream: StreamSettings


def load_iot_config(path: str | Path = "conf/iot.yml", env: str | None = None) -> IotConfig:
    return load_config(path, IotConfig, env)


def with_own_topics(config: IotConfig, prefix: str) -> IotConfig:
    """The same pipeline on topics of its own: Kafka's `<prefix>.telemetry`, ... and MQTT's
    `runs/<prefix>/devices/...`, so a test, benchmark or demo run never reads another run's records
    and no other bridge's persistent session collects its messages."""
    topics = config.kafka.topics
    renamed = {
        role: getattr(topics, role).model_copy(update={"name": f"{prefix}.{suffix}"})
        for role, suffix in (("telemetry", "telemetry"), ("dead_letter", "dead-letter"), ("alerts", "alerts"))
    }
    return config.model_copy(
        update={
            "kafka": config.kafka.model_copy(update={"topics": topics.model_copy(update=renamed)}),
            "mqtt": config.mqtt.model_copy(update={"topic_prefix": f"runs/{prefix}"}),
        }
    )


def topic_names(config: IotConfig) -> list[str]:
    topics = config.kafka.topics
    return [topics.telemetry.name, topics.dead_letter.name, topics.alerts.name]


def write_iot_config(config: IotConfig, folder: Path) -> Path:
    """The resolved config as `<folder>/iot.yml` plus an empty env overlay, for commands run in a
    subprocess (`lakeforge bridge|stream --conf ...`)."""
    (folder / "env").mkdir(parents=True, exist_ok=True)
    (folder / "env" / "local.yml").write_text("{}\n")
    path = folder / "iot.yml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True), sort_keys=False))
    return path
