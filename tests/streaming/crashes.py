"""SIGKILL the streaming job again and again, catch it up, and count what it lost or doubled against a
run that was never killed (tests/streaming/test_exactly_once.py and scripts/bench/stream_soak.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from itertools import cycle
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType

from lakeforge.streaming.anomalies import ALERT_COLUMNS
from lakeforge.streaming.tables import IotTables
from lakeforge.tables import delta
from lakeforge.tables.layout import Lakehouse
from streaming.iot import lakeforge

# The key of each table's rows, by which a row is lost (absent) or doubled (more than once).
KEYS = {"bronze": ["partition", "offset"], "silver": ["device_id", "seq"], "gold": ["device_id", "window_start"], "alerts": ["alert_id"]}
# Kills land this long after a commit of the named query: inside its next micro-batch, or between two.
DELAYS = (1.5, 0.4, 3.0, 0.9, 2.2)


def committed_batches(checkpoint: str) -> int:
    commits = Path(checkpoint) / "commits"
    return len([name for name in os.listdir(commits) if name.isdigit()]) if commits.is_dir() else 0


def run_job(conf_path: Path, *args: str, log: Path | None = None) -> subprocess.Popen:
    out = log.open("a") if log else subprocess.DEVNULL
    return lakeforge("stream", "iot", "--conf", str(conf_path), *args, stdout=out, stderr=subprocess.STDOUT)


def kill_repeatedly(conf_path: Path, tables: IotTables, kills: int, queries: tuple[str, ...], log: Path | None = None, timeout: float = 1800) -> list[str]:
    """Start the job and SIGKILL it `kills` times, each time just after a new commit of the next of
    `queries` (in turn, by the stage that names its checkpoint); then run it to the end of its input
    (availableNow). Returns the queries killed at."""
    killed_at = []
    for stage, delay in zip(cycle(queries), cycle(DELAYS)):
        if len(killed_at) == kills:
            break
        before = committed_batches(tables.checkpoints[stage])
        job = run_job(conf_path, log=log)
        deadline = time.monotonic() + timeout
        while committed_batches(tables.checkpoints[stage]) <= before:
            if job.poll() is not None or time.monotonic() > deadline:
                job.kill()
                raise RuntimeError(f"the streaming job committed no {stage} batch (exit {job.poll()}); its log ends:\n{_tail(log)}")
            time.sleep(0.2)
        time.sleep(delay)
        job.send_signal(signal.SIGKILL)
        job.wait()
        killed_at.append(stage)
    if run_job(conf_path, "--available-now", log=log).wait(timeout=timeout) != 0:
        raise RuntimeError(f"the catch-up run failed; its log ends:\n{_tail(log)}")
    return killed_at


def _tail(log: Path | None, lines: int = 30) -> str:
    return "\n".join(log.read_text().splitlines()[-lines:]) if log and log.exists() else "(no log)"


def differences(spark: SparkSession, killed: IotTables, reference: IotTables) -> dict[str, dict[str, int]]:
    """Per table: rows of the never-killed run missing from the killed one (lost), extra copies of a key
    (duplicated), keys the reference lacks (unexpected), and keys whose values differ (changed)."""
    report = {}
    for table, keys in KEYS.items():
        got, expected = _load(spark, getattr(killed, table)), _load(spark, getattr(reference, table))
        per_key = got.groupBy(*keys).count()
        columns = _compared_columns(table, expected)
        mine, theirs = got.dropDuplicates(keys).select(*columns).alias("mine"), expected.select(*columns).alias("theirs")
        paired = mine.join(theirs, [F.col(f"mine.{key}") == F.col(f"theirs.{key}") for key in keys])
        report[table] = {
            "rows": expected.count(),
            "lost": expected.select(*keys).join(got, keys, "left_anti").count(),
            "duplicated": per_key.where(F.col("count") > 1).agg(F.coalesce(F.sum(F.col("count") - 1), F.lit(0))).first()[0],
            "unexpected": per_key.join(expected, keys, "left_anti").count(),
            "changed": paired.where(_differs(expected, [name for name in columns if name not in keys])).count(),
        }
    return report


def _load(spark: SparkSession, path: str) -> DataFrame:
    return spark.read.format("delta").load(path)


def _compared_columns(table: str, expected: DataFrame) -> list[str]:
    if table == "gold":
        return expected.columns
    if table == "alerts":
        return ALERT_COLUMNS
    return KEYS[table] + (["value"] if table == "bronze" else ["temperature", "humidity", "event_time"])


def _differs(expected: DataFrame, columns: list[str]) -> Column:
    """True where the runs' values differ; doubles to 1e-9 relative (a window's sums are added up in
    another order when its micro-batches are cut differently)."""
    condition = F.lit(False)
    for name in columns:
        mine, theirs = F.col(f"mine.`{name}`"), F.col(f"theirs.`{name}`")
        if isinstance(expected.schema[name].dataType, DoubleType):
            apart = F.abs(mine - theirs) > F.greatest(F.abs(theirs), F.lit(1.0)) * 1e-9
            condition = condition | F.coalesce(apart, mine.isNull() != theirs.isNull())
        else:
            condition = condition | ~mine.eqNullSafe(theirs)
    return condition


def audit_gaps(spark: SparkSession, tables: IotTables, root: str, messages: int) -> dict[str, int]:
    """How far the IoT audit, summed over every window of every run, is from what the tables and Kafka
    hold (0 everywhere: each micro-batch was audited exactly once, including windows a kill cut), and
    how many windows ended in each status."""
    audit = _load(spark, Lakehouse(root).system("audit")).where(F.col("layer").isin("bronze", "silver"))
    sums = {
        row["layer"]: row
        for row in audit.groupBy("layer").agg(*(F.sum(f"rows_{name}").alias(name) for name in ("read", "written", "quarantined"))).collect()
    }
    quarantined = _load(spark, tables.quarantine).count() if delta.exists(spark, tables.quarantine) else 0
    statuses = {row["status"]: row["windows"] for row in audit.groupBy("status").agg(F.countDistinct("run_id").alias("windows")).collect()}
    return {
        "bronze_read": sums["bronze"]["read"] - messages,
        "bronze_written": sums["bronze"]["written"] - _load(spark, tables.bronze).count(),
        "silver_read": sums["silver"]["read"] - messages,
        "silver_written": sums["silver"]["written"] - _load(spark, tables.silver).count(),
        "silver_quarantined": sums["silver"]["quarantined"] - quarantined,
        **{f"windows_{status}": windows for status, windows in statuses.items()},
    }
