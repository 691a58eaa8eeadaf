"""Local spark-submit commands carry the job config's driver memory: spark-submit starts the driver JVM
before the job reads its config, and Spark ignores spark.driver.memory set after that."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from lakeforge.spark import heap_short_of
from lakeforge.workflows.submit import local_driver_memory, submission

# Prints the heap the driver JVM got.
JOB = """
from pyspark.sql import SparkSession
spark = SparkSession.builder.master("local[1]").getOrCreate()
print("MAX_HEAP", spark.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory())
spark.stop()
"""


def write_conf(folder: Path, overlays: dict[str, str | None]) -> Path:
    (folder / "env").mkdir(parents=True)
    for env, memory in overlays.items():
        spark = {"master": "local[1]"} | ({"driver_memory": memory} if memory else {})
        (folder / "env" / f"{env}.yml").write_text(yaml.safe_dump({"platform": {"spark": spark}}))
    path = folder / "job.yml"
    path.write_text(yaml.safe_dump({"name": "job"}))
    return path


def test_the_driver_memory_comes_from_the_named_config_and_its_overlay(tmp_path, monkeypatch):
    config = write_conf(tmp_path, {"local": "1500m", "big": "12g", "bare": None})
    monkeypatch.delenv("LAKEFORGE_ENV", raising=False)
    assert local_driver_memory(["--config", str(config), "--json"]) == "1500m"
    assert local_driver_memory(["--conf", str(config), "--env", "big"]) == "12g"
    assert local_driver_memory(["--config", str(config), "--env", "bare"]) == "4g"  # SparkSettings' default
    monkeypatch.chdir(tmp_path.parent)
    (tmp_path.parent / "conf").mkdir()
    (tmp_path.parent / "conf/env").symlink_to(tmp_path / "env")
    monkeypatch.setenv("LAKEFORGE_ENV", "big")
    assert local_driver_memory(["--model", "churn"]) == "12g"  # no --config: the command's default, under conf/


def test_a_local_submission_gives_the_driver_jvm_that_heap(tmp_path):
    config = write_conf(tmp_path, {"local": "1500m"})
    job = tmp_path / "heap.py"
    job.write_text(JOB)
    with submission(str(job), ["--config", str(config), "--env", "local"], None) as command:
        result = subprocess.run(command.argv, env=command.env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    heap = int(next(line.split()[1] for line in result.stdout.splitlines() if line.startswith("MAX_HEAP")))
    assert 0.8 * 1500 * 2**20 <= heap <= 1500 * 2**20  # Spark's default 1g would be below the floor
    assert not heap_short_of(heap, 1500 * 2**20)
    assert heap_short_of(heap, 6 * 2**30)
