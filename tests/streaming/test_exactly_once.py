"""Exactly-once into Delta: the streaming job is SIGKILLed several times while it works through more
than 50k events (with duplicates) and restarted; bronze then holds every Kafka record once and silver
every (device_id, seq) once."""

import os
import signal
import subprocess
import time
from pathlib import Path

from pyspark.sql import functions as F

from lakeforge.streaming.config import Faults, write_iot_config
from lakeforge.streaming.simulator import simulate
from lakeforge.streaming.tables import IotTables
from streaming.iot import lakeforge

KILLS = 3


def committed_batches(checkpoint: str) -> int:
    commits = Path(checkpoint) / "commits"
    return len([name for name in os.listdir(commits) if name.isdigit()]) if commits.is_dir() else 0


def run_job(conf_path, *args):
    return lakeforge("stream", "iot", "--conf", str(conf_path), *args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_sigkilled_job_writes_each_reading_exactly_once(spark, make_config, tmp_path):
    config = make_config(devices=50, readings_per_device=1000, faults=Faults(duplicate_probability=0.02))
    config = config.model_copy(update={"stream": config.stream.model_copy(update={"stages": ["bronze", "silver"], "max_offsets_per_trigger": 6000})})
    tables = IotTables.of(config)
    manifest, produced = simulate(config, via="kafka")
    assert manifest.valid_count >= 50_000 and manifest.duplicates > 0
    conf_path = write_iot_config(config, tmp_path / "conf")

    for _ in range(KILLS):
        before = committed_batches(tables.checkpoints["silver"])
        job = run_job(conf_path)
        deadline = time.monotonic() + 180
        while committed_batches(tables.checkpoints["silver"]) <= before and time.monotonic() < deadline:
            assert job.poll() is None, "the streaming job exited on its own"
            time.sleep(0.2)
        time.sleep(1.5)  # into the next micro-batch, so the kill lands mid-write
        job.send_signal(signal.SIGKILL)
        job.wait()
    assert run_job(conf_path, "--available-now").wait(timeout=300) == 0

    bronze = spark.read.format("delta").load(tables.bronze)
    assert bronze.count() == bronze.select("partition", "offset").distinct().count() == produced.messages
    silver = spark.read.format("delta").load(tables.silver)
    per_key = silver.groupBy("device_id", "seq").count()
    assert per_key.where(F.col("count") > 1).count() == 0
    keys = {(row["device_id"], row["seq"]) for row in per_key.select("device_id", "seq").collect()}
    assert keys == {(device, seq) for device, seqs in manifest.valid.items() for seq in seqs}
