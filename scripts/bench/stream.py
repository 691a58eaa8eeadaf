"""Benchmark: devices -> Mosquitto -> bridge -> Kafka -> Spark -> silver, gold windows and alerts: sustained
events/s per stage, publish-to-silver and publish-to-alert latency, with the raw Kafka producer on the
same broker as the ceiling, and the anomaly rules' detection quality on labelled series.

    .venv/bin/python scripts/bench/stream.py [--rate 20000] [--latency-rate 1000] [--seconds 60] [--devices 20]

Writes bench/results/stream.json. The simulator offers `--rate` events/s for `--warmup` + `--seconds`
(as many as one Python process publishing with paho can); the bridge and the streaming job (bronze and
silver: the path the latency goal is about) run as `lakeforge bridge` and `lakeforge stream iot`, each
in its own process, all on this machine's cores, with all four stages (silver's micro-batch also
scores alerts and refreshes gold). Latency is silver's Delta commit time (the commit file's mtime: when
the row became queryable) minus the publish time the simulator stamped in the reading; alert latency
is the alerts table's commit time minus the publish time of the reading alerted on (the fleet injects
temperature spikes for it). Spark's "falling behind" warnings in the job's log are counted apart for
the warm-up, the window and the drain. A second run offers `--latency-rate`, below what the machine
sustains, for the latency a queue does not dominate (`below_capacity`). Both runs record the CPU each component used over the
window (`cpu`), and `cpu_budget` scales the first run's CPU per event to the goal rate: the cores the
pipeline would need, against the cores there are. Then each stage runs alone on the same events, one
after the other, to show which one limits the whole (`stages_alone_events_per_second`). A result
measured with another bridge producer library is kept in the file as `previous`. Last, `detection`:
the default anomaly rules on labelled series (spikes, level shifts, drifts, stuck sensors) at 1 s and
5 min cadences, scored in a local Spark session: incidents alerted, false alert episodes per 1,000
readings outside incidents, and the delay from incident start to first alert.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from itertools import takewhile
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow.parquet as pq
import pyspark

from lakeforge.config.models import read_secret
from lakeforge.streaming.bridge import PRODUCER_LIBRARY
from lakeforge.streaming.config import METRICS, Faults, ProcessingTime, SimulatorSettings, load_iot_config, topic_names, with_own_topics, write_iot_config
from lakeforge.streaming.kafka import delete_topics, ensure_topics, produce_waiting, reliable_producer
from lakeforge.streaming.mqtt import bridge_login, connect, end_session, telemetry_filter
from lakeforge.streaming.readings import Manifest, device_id, fleet_messages
from lakeforge.streaming.services import IOT_SERVICES, services_up
from lakeforge.streaming.simulator import publish_mqtt
from lakeforge.streaming.tables import IotTables

ROOT = Path(__file__).resolve().parents[2]
WORK = Path(os.environ.get("LAKEFORGE_WORK", ROOT / ".work")) / "bench" / "stream"
SERVICES = Path(os.environ.get("LAKEFORGE_WORK", ROOT / ".work")) / "services"  # scripts/services/*.sh
# Issue 20's goals: at 1,000 readings/s offered with all four stages running (bronze, silver, gold
# windows, alerts), publish -> silver p95 <= 3 s and publish -> alert p95 <= 5 s, without falling behind.
GOALS = {"readings_per_second": 1000, "silver_p95_seconds": 3.0, "alert_p95_seconds": 5.0}
STAGES_REQUIRED = ("bronze", "silver", "gold", "alerts")
SPIKES = 0.001  # temperature spikes per reading the fleet sends, for alert latency
CAPACITY_PROBE_RATE = 20_000  # offered events/s of the throughput run: far above what 2 cores carry


def bench_config(tag: str, args, folder: str = "lakehouse"):
    """conf/iot.yml on topics and a lakehouse of this run's own, all four stages."""
    base = load_iot_config(ROOT / "conf/iot.yml", env="local")
    storage = base.platform.storage.model_copy(update={"root": str(WORK / folder), "landing": str(WORK / "landing")})
    stream = base.stream if args.trigger is None else base.stream.model_copy(update={"trigger": ProcessingTime(interval=args.trigger)})
    return with_own_topics(base, tag).model_copy(
        update={
            "platform": base.platform.model_copy(update={"storage": storage}),
            "bridge": base.bridge.model_copy(update={"client_id": f"bridge-{tag}", "stats_interval_seconds": 0.5}),
            "stream": stream,
        }
    )


def sample_payload(size_of: int = 20) -> list[bytes]:
    readings = fleet_messages(SimulatorSettings(devices=size_of, readings_per_device=1), Manifest())
    return [message.encode(int(time.time() * 1000)) for message in next(readings)]


def producer_ceiling(config, library: str, seconds: float) -> dict:
    """Raw producer throughput: the bridge's producer settings (idempotent, acks=all, keyed), the same
    payloads, as fast as one Python thread can hand them over, for about `seconds`."""
    topic = config.kafka.topics.telemetry.name
    payloads = sample_payload()
    keys = [f"dev-{n:04d}".encode() for n in range(1, len(payloads) + 1)]
    if library == "confluent-kafka":
        producer = reliable_producer(config.kafka)

        def send(key: bytes, payload: bytes) -> None:
            produce_waiting(producer, topic, payload, key)

        serve_reports = lambda: producer.poll(0)  # noqa: E731
    else:
        producer = kafka_python_producer(config.kafka)

        def send(key: bytes, payload: bytes) -> None:
            producer.send(topic, key=key, value=payload)

        serve_reports = lambda: None  # noqa: E731 - kafka-python serves them on its own thread
    sent, started = 0, time.monotonic()
    while time.monotonic() - started < seconds:
        for key, payload in zip(keys, payloads):
            send(key, payload)
        sent += len(payloads)
        serve_reports()
    producer.flush(60)
    elapsed = time.monotonic() - started
    return {"messages": sent, "seconds": round(elapsed, 2), "messages_per_second": round(sent / elapsed)}


def kafka_python_producer(settings):
    """kafka-python's producer with the bridge's settings: the client the bridge used before."""
    from kafka import KafkaProducer

    return KafkaProducer(
        bootstrap_servers=settings.bootstrap, security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
        sasl_plain_username=read_secret(settings.user_env), sasl_plain_password=read_secret(settings.password_env),
        acks="all", enable_idempotence=True, linger_ms=5, batch_size=256 * 1024, max_in_flight_requests_per_connection=5,
    )


class BridgeProcess:
    """`lakeforge bridge` in its own process; its counter lines (every stats_interval_seconds) are kept
    with their times."""

    def __init__(self, conf_path: Path, lib: str | None = None) -> None:
        command = [sys.executable, "-m", "lakeforge.cli", "bridge", "--conf", str(conf_path)]
        env = {**os.environ, "PYTHONPATH": lib} if lib else None  # another build of the bridge, to compare
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        first = self.process.stdout.readline()
        if json.loads(first or "{}") != {"bridge": "subscribed"}:
            raise RuntimeError(f"the bridge did not subscribe: {first!r}")
        self.samples: list[tuple[float, dict]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            document = json.loads(line)
            self.samples.append((document["at"], document["bridge"]))

    def forwarded_by(self) -> tuple[float, int]:
        """(time, forwarded) of the latest counters."""
        return (self.samples[-1][0], self.samples[-1][1]["forwarded"]) if self.samples else (time.time(), 0)

    def rate_between(self, start: float, end: float) -> float:
        """Messages forwarded per second between the samples nearest `start` and `end` (epoch seconds)."""
        inside = [(at, counters["forwarded"]) for at, counters in self.samples if start <= at <= end]
        if len(inside) < 2:
            return 0.0
        (first_at, first), (last_at, last) = inside[0], inside[-1]
        return (last - first) / (last_at - first_at)

    def stop(self) -> dict:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)
        self._reader.join(10)
        return self.samples[-1][1] if self.samples else {}


def delta_commits(path: str) -> list[dict]:
    """Each commit of an append-only Delta table: version, when its log file appeared, the files it added."""
    log = Path(path) / "_delta_log"
    commits = []
    for entry in sorted(log.glob("*.json")) if log.is_dir() else []:
        adds = []
        for line in entry.read_text().splitlines():
            action = json.loads(line)
            if "add" in action:
                adds.append((str(Path(path) / action["add"]["path"]), json.loads(action["add"]["stats"])["numRecords"]))
        commits.append({"version": int(entry.stem), "at": entry.stat().st_mtime, "adds": adds})
    return commits


def committed_rows(path: str) -> int:
    return sum(rows for commit in delta_commits(path) for _, rows in commit["adds"])


def committed_with_times(path: str, columns: list[str]) -> pd.DataFrame:
    """`columns` of every row of an append-only Delta table, with its commit's time (`committed_ms`)."""
    parts = []
    for commit in delta_commits(path):
        for file, rows in commit["adds"]:
            if rows:
                part = pq.read_table(file, columns=columns).to_pandas()
                parts.append(part.assign(committed_ms=commit["at"] * 1000.0))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*columns, "committed_ms"])


def silver_latencies(silver: str) -> tuple[np.ndarray, np.ndarray]:
    """(published_at epoch ms, commit time epoch ms) of every silver row."""
    rows = committed_with_times(silver, ["published_at"])
    return rows["published_at"].to_numpy(dtype=float), rows["committed_ms"].to_numpy(dtype=float)


def alert_latencies(silver: str, alerts: str) -> tuple[np.ndarray, np.ndarray]:
    """(published_at epoch ms of the reading alerted on, alert commit time epoch ms) of every alert."""
    raised = committed_with_times(alerts, ["device_id", "seq"])
    readings = committed_with_times(silver, ["device_id", "seq", "published_at"]).drop(columns="committed_ms")
    joined = raised.merge(readings, on=["device_id", "seq"])
    return joined["published_at"].to_numpy(dtype=float), joined["committed_ms"].to_numpy(dtype=float)


def falling_behind(log: Path, window: tuple[float, float]) -> dict:
    """Spark's warnings that a micro-batch took longer than its trigger interval, by when they were
    logged: during the warm-up (a fresh job creates its tables and compiles), in the measured window,
    and after it (draining). Spark's log stamps local time, to the second ("26/12/04 18:13:55 WARN")."""
    counts = {"warm_up": 0, "window": 0, "after": 0}
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    for line in lines:
        if "falling behind" not in line:
            continue
        logged = datetime.strptime(line[:17], "%y/%m/%d %H:%M:%S").timestamp()
        counts["warm_up" if logged < window[0] else "window" if logged <= window[1] else "after"] += 1
    return counts


def progress_rates(progress: str, query: str, start: float = 0.0, end: float | None = None) -> dict:
    """One query's micro-batches that started in [start, end]: rows/s over the window (if one is given)
    and while busy."""
    window = end is not None
    end = end if window else time.time()
    files = [file for commit in delta_commits(progress) for file, _ in commit["adds"]]
    if not files:
        return {}
    table = pq.read_table(files).to_pandas()
    started = table["started_at"].to_numpy().astype("datetime64[ns]").astype("int64") / 1e9  # UTC, the session time zone
    batches = table[(table["query"] == query) & (started >= start) & (started <= end)]
    rows, busy_ms = int(batches["num_input_rows"].sum()), float(batches["batch_duration_ms"].sum())
    return {
        "batches": len(batches),
        "rows": rows,
        "rows_per_second": round(rows / (end - start)) if window else None,
        "rows_per_second_while_busy": round(rows / busy_ms * 1000) if busy_ms else None,
        "batch_duration_ms_p50": float(batches["batch_duration_ms"].median()) if len(batches) else None,
    }


def wait_until(condition, timeout: float, every: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def cpu_seconds(pid: int, with_children: bool) -> float:
    """User + system CPU time of a process (and its descendants, e.g. the stream job's JVM)."""
    try:
        process = psutil.Process(pid)
        processes = [process, *process.children(recursive=True)] if with_children else [process]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for each in processes:
        try:
            times = each.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


class CpuMeter:
    """CPU seconds each component used between mark() and the next mark(): what an event costs where."""

    def __init__(self, components: dict[str, tuple[int, bool]]) -> None:
        self.components = components  # name -> (pid, count its children)
        self.marks: list[tuple[float, dict[str, float]]] = []

    def mark(self) -> None:
        self.marks.append((time.monotonic(), {name: cpu_seconds(pid, kids) for name, (pid, kids) in self.components.items()}))

    def report(self, events: int) -> dict:
        (start, first), (end, last) = self.marks[0], self.marks[-1]
        used = {name: last[name] - first[name] for name in self.components}
        return {
            "window_seconds": round(end - start, 1),
            "events": events,
            "cores_used": {name: round(seconds / (end - start), 2) for name, seconds in used.items()},
            "cpu_ms_per_event": {name: round(seconds * 1000 / events, 4) for name, seconds in used.items()} if events else None,
        }


def service_pid(name: str) -> int:
    return int((SERVICES / name / f"{name}.pid").read_text().split()[0])


def percentiles_seconds(latencies_ms: np.ndarray, missing: int) -> dict:
    """p50/p95/p99 over the events published in the window; `missing` events that never reached silver
    count as infinitely late, so a percentile that falls among them is null."""
    padded = np.concatenate([np.sort(latencies_ms), np.full(missing, np.inf)])
    if not len(padded):
        return {"p50": None, "p95": None, "p99": None}
    values = {name: float(np.percentile(padded, q, method="higher")) for name, q in (("p50", 50), ("p95", 95), ("p99", 99))}
    return {name: (round(value / 1000, 3) if math.isfinite(value) else None) for name, value in values.items()}


def publish_for(config, tag: str, seconds: float, devices: int, rate: float | None):
    """The fleet publishing readings (with rare temperature spikes) over MQTT for `seconds`, at `rate`
    events/s in all (None: unpaced)."""
    per_device = rate / devices if rate else None
    readings = math.ceil((per_device or 100_000) * seconds)
    fleet = SimulatorSettings(devices=devices, readings_per_device=readings, rate_per_device=per_device or 1.0, faults=Faults(spike_probability=SPIKES))
    deadline = time.monotonic() + seconds
    ticks = takewhile(lambda _: time.monotonic() < deadline, fleet_messages(fleet, Manifest()))
    return publish_mqtt(config.mqtt, ticks, [device_id(n) for n in range(1, devices + 1)], per_device, client_prefix=f"sim-{tag}")


def stream_job(conf_path: Path, log_name: str, *args: str) -> subprocess.Popen:
    log = (WORK / log_name).open("w")
    return subprocess.Popen([sys.executable, "-m", "lakeforge.cli", "stream", "iot", "--conf", str(conf_path), *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def park_session(config) -> None:
    """Subscribe the bridge's persistent session and leave: the broker queues telemetry for it."""
    client = connect(config.mqtt, bridge_login(config.mqtt), config.bridge.client_id, clean_session=False)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_: subscribed.set()
    client.subscribe(telemetry_filter(config.mqtt), qos=1)
    if not subscribed.wait(10):
        raise TimeoutError("no SUBACK for the parked bridge session")
    client.disconnect()
    client.loop_stop()


def stages_alone(config, tag: str, args) -> dict:
    """Each stage with the machine to itself, one after the other, on the same events: the simulator
    publishing unpaced (the bridge's session offline, the broker queueing), then the bridge draining that
    queue into Kafka, then the streaming job catching up on it (availableNow)."""
    park_session(config)
    published = publish_for(config, f"{tag}-alone", args.alone_seconds, args.devices, rate=None)
    bridge = BridgeProcess(write_iot_config(config, WORK / "conf-alone"), args.bridge_lib)
    started = time.time()
    try:
        if not wait_until(lambda: bridge.forwarded_by()[1] >= published.messages, timeout=180, every=0.2):
            raise RuntimeError(f"the bridge forwarded {bridge.forwarded_by()[1]} of {published.messages} queued messages")
        bridged_at, _ = bridge.forwarded_by()
    finally:
        bridge.stop()
        end_session(config.mqtt, bridge_login(config.mqtt), config.bridge.client_id)
    job = stream_job(WORK / "conf-alone" / "iot.yml", "stream-alone.log", "--available-now")
    if job.wait(timeout=600) != 0:
        raise RuntimeError(f"the catch-up failed; see {WORK / 'stream-alone.log'}")
    progress = IotTables.of(config).progress
    return {
        "events": published.messages,
        "simulator_publish_mqtt_qos1": round(published.per_second),
        "bridge_forwarded": round(published.messages / (bridged_at - started)),
        # a catch-up from a cold start: its first batch pays the JVM's warm-up
        "spark_bronze": progress_rates(progress, f"{config.stream.name}.bronze"),
        "spark_silver": progress_rates(progress, f"{config.stream.name}.silver"),
    }


def run_pipeline(config, tag: str, args, rate: float) -> dict:
    """The whole pipeline with `rate` events/s offered for warmup + seconds; latency and CPU over the window."""
    tables = IotTables.of(config)
    conf_path = write_iot_config(config, WORK / "conf")
    log_name = f"stream-{tag}.log"
    stream = stream_job(conf_path, log_name)
    bridge = None
    try:
        if not wait_until(lambda: (Path(tables.checkpoints["bronze"]) / "metadata").exists(), timeout=180):
            raise RuntimeError(f"the streaming job did not start its bronze query; see {WORK / log_name}")
        bridge = BridgeProcess(conf_path, args.bridge_lib)
        cpu = CpuMeter({
            "simulator": (os.getpid(), False),  # this process publishes (paho's threads)
            "mosquitto": (service_pid("mosquitto"), False),
            "bridge": (bridge.process.pid, True),
            "kafka": (service_pid("kafka"), False),
            "spark": (stream.pid, True),  # the job's Python, its JVM and Python workers
        })
        threading.Timer(args.warmup, cpu.mark).start()
        began = time.time()
        published = publish_for(config, tag, args.warmup + args.seconds, args.devices, rate)
        cpu.mark()
        window = (began + args.warmup, began + args.warmup + args.seconds)
        drained = wait_until(lambda: committed_rows(tables.silver) >= published.messages, timeout=args.drain)
        bridge_final = bridge.stop()
        end_session(config.mqtt, bridge_login(config.mqtt), config.bridge.client_id)  # or the broker keeps queueing for it
    finally:
        if bridge is not None and bridge.process.poll() is None:
            bridge.process.kill()
        stream.send_signal(signal.SIGTERM)  # stops the queries and flushes the progress table
        stream.wait(timeout=120)

    published_at, committed_at = silver_latencies(tables.silver)
    in_window = (published_at >= window[0] * 1000) & (published_at <= window[1] * 1000)
    never_arrived = published.messages - len(published_at)
    latencies = committed_at[in_window] - published_at[in_window]
    alert_published, alert_committed = alert_latencies(tables.silver, tables.alerts)
    alerts_in_window = (alert_published >= window[0] * 1000) & (alert_published <= window[1] * 1000)
    last_commit = committed_at.max() / 1000 if len(committed_at) else began
    return {
        "offered_events_per_second": rate,
        "devices": args.devices,
        "window_seconds": args.seconds,
        "warmup_seconds": args.warmup,
        "published": published.messages,
        "reached_silver": len(published_at),
        "drained_within_seconds": args.drain if drained else None,
        "stages_events_per_second": {
            "simulator_publish_mqtt_qos1": round(published.per_second),
            "bridge_forwarded": round(bridge.rate_between(*window)),
            "spark_bronze": progress_rates(tables.progress, f"{config.stream.name}.bronze", *window),
            "spark_silver": progress_rates(tables.progress, f"{config.stream.name}.silver", *window),
        },
        # Everything that reached silver over the time from the first publish to the last silver commit.
        "end_to_end_events_per_second": round(len(published_at) / (last_commit - began)) if len(published_at) else 0,
        "latency_publish_to_silver_seconds": percentiles_seconds(latencies, never_arrived),
        "latency_of_events_that_arrived_seconds": percentiles_seconds(latencies, 0),
        "latency_samples": int(in_window.sum()) + never_arrived,
        "latency_publish_to_alert_seconds": percentiles_seconds(alert_committed[alerts_in_window] - alert_published[alerts_in_window], 0),
        "alert_latency_samples": int(alerts_in_window.sum()),
        "falling_behind_warnings": falling_behind(WORK / log_name, window),
        "bridge_counters": bridge_final,
        "cpu": cpu.report(int(in_window.sum())),  # the window's events (those that reached silver)
    }


def cpu_budget(run: dict, cores: int | None) -> dict:
    """What the goal rate takes: CPU per event of each component in the highest-rate run (each at its
    busiest, so at its cheapest per event) times the goal rate, against the cores the machine has."""
    per_event = run["cpu"]["cpu_ms_per_event"] or {}
    total, rate = sum(per_event.values()), GOALS["readings_per_second"]
    return {
        "cpu_ms_per_event_total": round(total, 3),
        "cores_needed_at_goal_rate": round(total * rate / 1000, 2),
        "cores_needed_by_component": {name: round(ms * rate / 1000, 2) for name, ms in per_event.items()},
        "cores_available": cores,
    }


def goal_report(run: dict, below_capacity: dict | None) -> dict:
    """The goals and whether the measurements (all four stages running) meet them."""
    at_goal_rate = below_capacity or run
    latency, alert = at_goal_rate["latency_publish_to_silver_seconds"], at_goal_rate["latency_publish_to_alert_seconds"]
    return {
        **GOALS,
        "stages_required": list(STAGES_REQUIRED),
        "stages_measured": list(STAGES_REQUIRED),
        "events_per_second_met": at_goal_rate["end_to_end_events_per_second"] >= 0.95 * GOALS["readings_per_second"],
        "p95_latency_met": latency["p95"] is not None and latency["p95"] <= GOALS["silver_p95_seconds"],
        "alert_p95_latency_met": alert["p95"] is not None and alert["p95"] <= GOALS["alert_p95_seconds"],
        "no_falling_behind": at_goal_rate["falling_behind_warnings"]["window"] == 0,
        "silver_p95_measured_seconds": latency["p95"],
        "alert_p95_measured_seconds": alert["p95"],
        "measured_at_offered_events_per_second": at_goal_rate["offered_events_per_second"],
    }


def detection_quality(devices: int, readings: int) -> dict:
    """The default rules (conf/iot.yml) on labelled series at 1 s and 5 min cadences."""
    from lakeforge.spark import build_spark
    from lakeforge.streaming.anomalies import score_readings
    from lakeforge.streaming.incidents import judge, labelled_series

    settings = load_iot_config(ROOT / "conf/iot.yml", env="local").stream.anomalies
    spark = build_spark()
    schema = "device_id string, seq bigint, event_time timestamp, " + ", ".join(f"{metric} double" for metric in METRICS)
    results = {"devices": devices, "readings_per_device": readings, "goal": "every incident alerted, <= 1 false alert episode per 1,000 readings outside incidents"}
    for name, cadence in (("cadence_1s", 1.0), ("cadence_5min", 300.0)):
        series = labelled_series(devices, readings, cadence)
        alerts = score_readings(spark.createDataFrame(series.rows, schema), settings).select("device_id", "seq", "metric").collect()
        detection = judge(series, [tuple(row) for row in alerts], settle=settings.history_readings, episode_gap=settings.episode_gap)
        results[name] = {**detection.summary(cadence), "met": not detection.missed and detection.false_episodes_per_1000 <= 1.0}
    spark.stop()
    return results


def previous_result(path: Path, bridge_producer: str) -> dict | None:
    """The last result in the file if its bridge used another producer library (a before/after pair),
    without its goal verdicts: they judged that run's design, the file's `goals` judge this one."""
    if not path.exists():
        return None
    earlier = json.loads(path.read_text())
    previous = earlier.get("previous") if earlier.get("bridge_producer") == bridge_producer else earlier
    if previous is None:
        return None
    return {key: value for key, value in previous.items() if key not in ("benchmark", "previous", "goals")}


def installed_producers() -> list[str]:
    """confluent-kafka (the bridge's), and kafka-python while it is still installed, for comparison."""
    try:
        import kafka  # noqa: F401
    except ImportError:
        return ["confluent-kafka"]
    return ["kafka-python", "confluent-kafka"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=CAPACITY_PROBE_RATE, help="offered events/s of the throughput run, the whole fleet")
    parser.add_argument("--latency-rate", type=float, default=GOALS["readings_per_second"], help="offered events/s of a second run, below capacity, for latency (0: skip it)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=30.0, help="publishing before the window: a fresh job creates its tables and compiles in its first micro-batches (10-25 s here)")
    parser.add_argument("--drain", type=float, default=25.0, help="how long to wait after publishing for silver to catch up")
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--trigger", help="processing-time trigger of silver, e.g. '1 second' (default: conf/iot.yml's; bronze keeps conf/iot.yml's)")
    parser.add_argument("--ceiling-seconds", type=float, default=3.0)
    parser.add_argument("--alone-seconds", type=float, default=5.0, help="publishing time of the stages-alone run (0: skip it)")
    parser.add_argument("--out", default=str(ROOT / "bench/results/stream.json"))
    parser.add_argument("--bridge-lib", help="run the bridge from another checkout's lib/ (e.g. the kafka-python bridge, for a before/after)")
    parser.add_argument("--bridge-label", default=PRODUCER_LIBRARY, help="the producer library that bridge uses, for the record")
    parser.add_argument("--detection-devices", type=int, default=10, help="devices of each labelled series (0: skip detection quality)")
    parser.add_argument("--detection-readings", type=int, default=3000, help="readings per device of each labelled series")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]  # other work on the machine competes for the same cores
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    tag = f"bench-{uuid.uuid4().hex[:6]}"
    config = bench_config(tag, args)
    services_up(None, IOT_SERVICES)  # idempotent; exports the brokers' logins into this process
    ceiling_config = with_own_topics(config, f"{tag}-ceiling")
    alone_config = bench_config(f"{tag}-alone", args, folder="alone")
    latency_config = bench_config(f"{tag}-latency", args, folder="latency")
    configs = (config, ceiling_config, alone_config, latency_config)
    for each in configs:
        ensure_topics(each.kafka)
    try:
        ceiling = {library: producer_ceiling(ceiling_config, library, args.ceiling_seconds) for library in installed_producers()}
        run = run_pipeline(config, tag, args, args.rate)
        below_capacity = run_pipeline(latency_config, f"{tag}-latency", args, args.latency_rate) if args.latency_rate else None
        alone = stages_alone(alone_config, tag, args) if args.alone_seconds else None
    finally:
        for each in configs:
            delete_topics(each.kafka, topic_names(each))
    detection = detection_quality(args.detection_devices, args.detection_readings) if args.detection_devices else None
    out = Path(args.out)
    report = {
        "benchmark": "stream: devices -> Mosquitto -> bridge -> Kafka -> Spark bronze, silver, gold and alerts: sustained events/s, publish-to-silver and publish-to-alert latency; anomaly detection quality",
        "goals": goal_report(run, below_capacity),
        "cpu_budget": cpu_budget(run, os.cpu_count()),
        "machine": {
            "cores": os.cpu_count(), "python": platform.python_version(), "spark": pyspark.__version__,
            "load_average_1min_at_start": round(load_before, 2), "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        },
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "bridge_producer": args.bridge_label,
        "silver_trigger": config.stream.trigger.model_dump(),
        "kafka_producer_ceiling": ceiling,
        "end_to_end": run,
        "below_capacity": below_capacity,
        "stages_alone_events_per_second": alone,
        "detection": detection,
        "previous": previous_result(out, args.bridge_label),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
