"""Helpers of the cluster tests: the cluster script, the shipped code's target, spark-submit runs, conf folders."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from lakeforge.workflows.config import ClusterTarget
from lakeforge.workflows.submit import submission

ROOT = Path(__file__).resolve().parents[2]
WORK = Path(os.environ.get("LAKEFORGE_WORK", ROOT / ".work"))
SCRIPT = ROOT / "scripts/services/spark-cluster.sh"
CREDENTIALS = WORK / "services/spark-cluster/credentials.env"
JOB_TIMEOUT = 900
# Columns that say which run wrote a row and when: they differ between any two runs by design.
PER_RUN = {"_run_id", "_ingested_at", "_quarantined_at", "detected_at"}


def cluster_script(action: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), action], capture_output=True, text=True, timeout=180)


def read_credentials() -> dict[str, str]:
    words = shlex.split(CREDENTIALS.read_text())
    return dict(word.split("=", 1) for word in words if "=" in word)


def deps_python() -> str:
    """The dependency layer's interpreter: every library, but lakeforge only from what is shipped."""
    import pyspark

    return str(Path(pyspark.__file__).parents[4] / "bin" / "python")


def cluster_target(cluster: dict, code: Path, executor_python: str) -> ClusterTarget:
    return ClusterTarget(
        master=cluster["LAKEFORGE_SPARK_MASTER"], code=str(code), env_archive=None, executor_python=executor_python,
        jars_dir=str(WORK / "jars"), event_log_dir=cluster["LAKEFORGE_SPARK_EVENTS"], executor_memory="768m",
        conf={"spark.pyspark.driver.python": deps_python(),
              "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1", "spark.ui.enabled": "false",
              "spark.sql.shuffle.partitions": "2", "spark.driver.memory": "1g"},
    )


def submit(job: str, args: list[str], target: ClusterTarget | None, env: dict[str, str]) -> subprocess.CompletedProcess:
    """spark-submit a job (ROOT/jobs/...) in local mode (target None) or on the cluster; the driver runs
    the dependency layer's Python too when on the cluster, so nothing comes from the checkout."""
    with submission(str(ROOT / job), args, target) as command:
        return subprocess.run(command.argv, env={**command.env, **env}, cwd=ROOT, capture_output=True, text=True, timeout=JOB_TIMEOUT)


@contextmanager
def submitted(job: str, args: list[str], target: ClusterTarget | None, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """`submit` in the background: the submission (and its secret's properties file) lasts as long as the block."""
    with submission(str(ROOT / job), args, target) as command:
        process = subprocess.Popen(command.argv, env={**command.env, **env}, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            yield process
        finally:
            process.kill()
            process.wait()


def write_conf(folder: Path, files: dict[str, dict], local_overlay: dict) -> Path:
    """A conf/ folder: the given config files, env/local.yml as given and the project's env/cluster.yml."""
    (folder / "env").mkdir(parents=True, exist_ok=True)
    (folder / "env/local.yml").write_text(yaml.safe_dump(local_overlay))
    shutil.copy(ROOT / "conf/env/cluster.yml", folder / "env/cluster.yml")
    for name, content in files.items():
        (folder / name).write_text(yaml.safe_dump(content, sort_keys=False))
    return folder


def delta_rows(spark, path: str):
    """A Delta table without its per-run columns, to compare two runs row for row."""
    frame = spark.read.format("delta").load(path)
    return frame.drop(*[column for column in frame.columns if column in PER_RUN])


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def completed_apps(cluster: dict) -> set[str]:
    """The ids of the applications the master has seen finish."""
    return {app["id"] for app in get_json(f"{cluster['LAKEFORGE_SPARK_MASTER_UI']}/json/")["completedapps"]}


def completed_stages(cluster: dict, app: str, timeout: float = 90.0) -> list[dict]:
    """The app's completed stages with their tasks, from the History Server (which finds a new event
    log on its next scan, every 10 s by default)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return get_json(f"{cluster['LAKEFORGE_SPARK_HISTORY_UI']}/api/v1/applications/{app}/stages?status=complete&details=true")
        except urllib.error.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)
