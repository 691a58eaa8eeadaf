"""`lakeforge demo-iot` (`make demo-iot`): the IoT pipeline live for about a minute on the built-in config,
then the per-device windows and the alerts it produced. Notebook 02 uses the same steps."""

from __future__ import annotations

import shutil
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.reporting import format_table
from lakeforge.spark import build_spark
from lakeforge.streaming.bridge import BridgeCounters, running_bridge
from lakeforge.streaming.config import IotConfig, topic_names, with_own_topics
from lakeforge.streaming.job import as_catch_up, run_stream
from lakeforge.streaming.kafka import delete_topics, ensure_topics
from lakeforge.streaming.progress import format_progress, latest_progress
from lakeforge.streaming.readings import Manifest
from lakeforge.streaming.services import IOT_SERVICES, services_down, services_status, services_up
from lakeforge.streaming.simulator import PublishStats, simulate
from lakeforge.streaming.tables import IotTables

WINDOW_COLUMNS = ["device_id", "window_start", "readings", "temperature_mean", "temperature_max", "vibration_max", "pressure_mean", "battery_min"]
ALERT_COLUMNS = ["device_id", "seq", "event_time", "metric", "rule", "value", "limit"]


@dataclass
class Published:
    manifest: Manifest
    stats: PublishStats
    bridge: BridgeCounters


def publish_through_bridge(config: IotConfig, rate: float | None = None, report=lambda _line: None) -> Published:
    """Run the simulator's fleet over MQTT with the bridge forwarding to Kafka; returns once Kafka has
    confirmed every message (`rate`: readings per device per second, 0 unpaced, None as configured)."""
    with running_bridge(config, report=report) as bridge:
        manifest, stats = simulate(config, rate=rate)
        bridge.wait_for(stats.messages, timeout=120)
    return Published(manifest, stats, bridge.counters)


def device_windows(spark: SparkSession, config: IotConfig, since: datetime | None = None) -> DataFrame:
    """Gold's per-device windows (those ending after `since`), by device and time."""
    windows = spark.read.format("delta").load(IotTables.of(config).gold)
    if since is not None:
        windows = windows.where(F.col("window_end") > F.lit(since))
    return windows.select(*WINDOW_COLUMNS).orderBy("device_id", "window_start")


def raised_alerts(spark: SparkSession, config: IotConfig) -> DataFrame:
    alerts = IotTables.of(config).alerts
    return spark.read.format("delta").load(alerts).select(*ALERT_COLUMNS).orderBy("device_id", "seq", "metric")


def demo_config(config: IotConfig, root: Path) -> IotConfig:
    """The built-in pipeline on topics of this run's own and a fresh lakehouse under `root`: readings
    restart at seq 1 each run, and silver would drop them as replays of the previous run's."""
    shutil.rmtree(root, ignore_errors=True)
    storage = config.platform.storage.model_copy(update={"root": str(root / "lakehouse"), "landing": str(root / "landing")})
    quiet = config.platform.spark.model_copy(update={"progress_bar": False, "log_level": "ERROR"})  # the demo prints its own
    demo = with_own_topics(config, f"demo-{uuid.uuid4().hex[:6]}")
    return demo.model_copy(update={"platform": config.platform.model_copy(update={"storage": storage, "spark": quiet})})


def run_demo(config: IotConfig, root: Path, report=print) -> Published:
    """Start the brokers if they are not running, run simulator, bridge and streaming job together, catch
    the job up, print windows and alerts, and stop only the brokers this run started."""
    started_here = tuple(service for service, running in services_status(IOT_SERVICES).items() if not running)
    services_up(None, IOT_SERVICES)
    config = demo_config(config, root)
    ensure_topics(config.kafka)
    try:
        spark = build_spark(config.platform.spark)
        since = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=1)
        sim = config.simulator
        report(f"publishing {sim.devices} devices x {sim.readings_per_device} readings at {sim.rate_per_device}/s each, with faults; streaming live")
        stop = threading.Event()
        with ThreadPoolExecutor(1) as live:
            streaming = live.submit(run_stream, spark, config, stop)
            published = publish_through_bridge(config, report=report)
            stop.set()
            streaming.result()
        run_stream(spark, as_catch_up(config))  # what the live queries had not reached when they stopped
        report_results(spark, config, published, since, report)
        return published
    finally:
        delete_topics(config.kafka, topic_names(config))
        if started_here:
            services_down(started_here)


def report_results(spark: SparkSession, config: IotConfig, published: Published, since: datetime, report=print) -> None:
    report(f"\npublished {published.stats.messages} messages in {published.stats.seconds:.0f} s; injected: {published.manifest.to_dict()}")
    report(f"bridge: {published.bridge}")
    report("\nstreaming queries\n" + format_progress(latest_progress(spark, IotTables.of(config).progress)))
    windows = device_windows(spark, config, since).collect()
    report(f"\nper-device {config.stream.gold.window} windows ({len(windows)})\n" + format_table(WINDOW_COLUMNS, [_rounded(row) for row in windows]))
    alerts = raised_alerts(spark, config).collect()
    report(f"\nalerts raised ({len(alerts)})\n" + format_table(ALERT_COLUMNS, [_rounded(row) for row in alerts]))
    report(f"\ntables under {config.platform.storage.root}")


def _rounded(row) -> list:
    return [round(value, 2) if isinstance(value, float) else value for value in row]
