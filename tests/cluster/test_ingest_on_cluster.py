"""jobs/ingest.py on the standalone cluster: the same tables as local mode, also when a worker dies
mid-run, and executors without the job's dependencies fail fast."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from pyspark.testing import assertDataFrameEqual

from cluster.cluster_jobs import JOB_TIMEOUT, ROOT, WORK, cluster_script, cluster_target, delta_rows, get_json, submit, submitted, write_conf
from lakeforge.demo.generate import generate_demo

SOURCES = ["customers", "usage"]  # the file sources: no service needed, and both have quarantined rows
TABLES = [f"{layer}/{source}" for layer in ("bronze", "silver", "quarantine") for source in SOURCES]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> dict:
    """conf/customer360.yml with a private lakehouse per run, on 150 demo customers."""
    root = tmp_path_factory.mktemp("ingest")
    generate_demo(root / "landing", root / "seed", customers=150, seed=7)
    overlay = {"platform": {"spark": {"master": "local[2]", "jars_dir": str(WORK / "jars"), "progress_bar": False, "driver_memory": "1g"},
                            "storage": {"root": "${LAKEFORGE_LAKEHOUSE_ROOT}", "landing": "${LAKEFORGE_LANDING_ROOT}"}}}
    conf = write_conf(root / "conf", {"customer360.yml": yaml.safe_load((ROOT / "conf/customer360.yml").read_text())}, overlay)
    return {"root": root, "config": str(conf / "customer360.yml")}


def ingest_command(pipeline: dict, name: str, target) -> tuple[list[str], dict[str, str]]:
    """jobs/ingest.py's arguments and environment for a run into its own lakehouse `name`."""
    env = {"LAKEFORGE_LAKEHOUSE_ROOT": str(pipeline["root"] / name), "LAKEFORGE_LANDING_ROOT": str(pipeline["root"] / "landing")}
    args = ["--config", pipeline["config"], "--env", "local" if target is None else "cluster",
            *[word for source in SOURCES for word in ("--source", source)]]
    return args, env


def ingest(pipeline: dict, name: str, target):
    args, env = ingest_command(pipeline, name, target)
    return submit("jobs/ingest.py", args, target, env)


def table(spark, pipeline: dict, run: str, name: str):
    return delta_rows(spark, str(pipeline["root"] / run / name))


@pytest.fixture(scope="module")
def local_run(pipeline) -> str:
    result = ingest(pipeline, "local", None)
    assert result.returncode == 0, result.stderr[-3000:]
    return "local"


def assert_same_tables(spark, pipeline: dict, run: str, reference: str) -> None:
    for name in TABLES:
        expected = table(spark, pipeline, reference, name)
        assert expected.count() > 0, f"{reference}/{name} is empty"
        assertDataFrameEqual(table(spark, pipeline, run, name), expected)  # every row, in any order


def test_ingestion_on_the_cluster_writes_the_tables_local_mode_writes(spark, pipeline, local_run, on_cluster):
    result = ingest(pipeline, "cluster", on_cluster)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "StandaloneSchedulerBackend" in result.stderr  # it ran on the cluster, not in local mode
    assert_same_tables(spark, pipeline, "cluster", local_run)


def active_app(cluster: dict) -> str | None:
    """The id of the application running on the cluster, from the master's JSON status."""
    apps = get_json(f"{cluster['LAKEFORGE_SPARK_MASTER_UI']}/json/")["activeapps"]
    return apps[0]["id"] if apps else None


def running_tasks(worker: str, app: str | None) -> bool:
    """Whether the app's executor on `worker` has been given a task (its log, in the worker's folder)."""
    logs = (WORK / "services/spark-cluster" / worker / app).glob("*/stderr") if app else []
    return any("Got assigned task" in log.read_text(errors="replace") for log in logs)


def test_a_worker_killed_during_ingestion_is_survived_with_the_same_tables(spark, pipeline, local_run, on_cluster, cluster):
    args, env = ingest_command(pipeline, "worker-killed", on_cluster)
    try:
        with submitted("jobs/ingest.py", args, on_cluster, env) as run:
            deadline = time.monotonic() + 300
            while not running_tasks("worker-2", active_app(cluster)):
                assert time.monotonic() < deadline, "worker-2's executor got no task in 300 s"
                assert run.poll() is None, f"the job ended ({run.returncode}) before worker-2 ran a task:\n{run.stderr.read()[-3000:]}"
                time.sleep(0.2)
            # Like a machine lost: the worker and its executor (one process group, spark-cluster.sh) die at once.
            os.killpg(int((WORK / "services/spark-cluster/worker-2.pid").read_text()), signal.SIGKILL)
            _, errors = run.communicate(timeout=JOB_TIMEOUT)
    finally:
        restarted = cluster_script("up")  # brings worker-2 back for the tests after this one
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    assert run.returncode == 0, errors[-3000:]
    assert "Lost executor" in errors  # the driver lost a working executor and ran its work on the other one
    assert_same_tables(spark, pipeline, "worker-killed", local_run)


def test_executors_without_the_dependencies_fail_at_once_naming_them(pipeline, cluster, shipped_code, tmp_path):
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120)
    result = ingest(pipeline, "bare", cluster_target(cluster, shipped_code, str(bare / "bin/python")))
    assert result.returncode != 0
    messages = [line for line in (result.stderr + result.stdout).splitlines() if "cannot import" in line]
    assert messages, f"exit {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    message = messages[0]
    assert "numpy, pandas, pyarrow" in message and f"{bare}/bin/python" in message  # the modules and the executors' Python
    assert "lakeforge[all]" in message and "--archives dist/lakeforge-env.tar.gz#environment" in message
    assert not Path(pipeline["root"], "bare", "bronze").exists()  # failed before writing anything
