"""spark-submit command lines for a job, in local mode or on a Spark cluster with the shipped artifacts.

On a cluster the code goes as the wheel (--py-files), the Python dependencies as the packed environment
(--archives, unpacked beside each executor), the JVM dependencies as the pinned jars (--jars). The
cluster's shared secret goes in a properties file only the caller can read, never on a command line.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyspark

from lakeforge.config.loader import DEFAULT_ENV, load_model, load_yaml, merged_config_data
from lakeforge.config.models import SparkSettings, read_secret
from lakeforge.workflows.config import ClusterTarget

ENV_ALIAS = "environment"  # the packed env unpacks as ./environment in each executor's working folder


@dataclass(frozen=True)
class Submission:
    argv: list[str]
    env: dict[str, str]


def spark_submit_binary() -> str:
    """The pinned pyspark's own spark-submit."""
    return str(Path(pyspark.__file__).parent / "bin" / "spark-submit")


def pinned_jars(jars_dir: str) -> list[str]:
    jars = sorted(glob.glob(os.path.join(jars_dir, "*.jar")))
    if not jars:
        raise FileNotFoundError(f"no jars in {jars_dir}: run `make setup` (scripts/setup/jars.sh) to fetch the pinned set")
    return jars


def shipped_file(path: str, built_by: str) -> str:
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} does not exist: build it with `{built_by}`")
    return str(Path(path).resolve())


def cluster_conf(target: ClusterTarget) -> dict[str, str]:
    """Spark properties of a cluster submission (the secret excluded)."""
    conf = {"spark.executor.memory": target.executor_memory, "spark.pyspark.driver.python": sys.executable,
            # --py-files reach only the Python workers' sys.path; a process a task starts (TorchDistributor's
            # ranks) finds the code through PYTHONPATH, relative to the executor's folder the file lands in.
            "spark.executorEnv.PYTHONPATH": Path(target.code).name}
    if target.env_archive:
        conf["spark.pyspark.python"] = f"./{ENV_ALIAS}/bin/python"
    if target.executor_python:
        conf["spark.pyspark.python"] = target.executor_python
    if target.event_log_dir:
        conf.update({"spark.eventLog.enabled": "true", "spark.eventLog.dir": target.event_log_dir})
    return {**conf, **target.conf}


def cluster_argv(target: ClusterTarget, properties: str | None) -> list[str]:
    """spark-submit's options for the cluster, up to (not including) the job file."""
    argv = [spark_submit_binary(), "--master", target.master, "--deploy-mode", "client"]
    if properties:
        argv += ["--properties-file", properties]
    argv += ["--py-files", shipped_file(target.code, "make dist"), "--jars", ",".join(pinned_jars(target.jars_dir))]
    if target.env_archive:
        argv += ["--archives", f"{shipped_file(target.env_archive, 'make dist')}#{ENV_ALIAS}"]
    for key, value in cluster_conf(target).items():
        argv += ["--conf", f"{key}={value}"]
    return argv


def local_driver_memory(args: list[str]) -> str:
    """platform.spark.driver_memory of the config a job's `args` name (--config, --env; without --config,
    the environment overlay conf/env/<env>.yml). spark-submit starts the driver JVM before the job reads
    its config, so in local mode the setting only takes effect on the command line."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config", "--conf", dest="config")
    parser.add_argument("--env")
    named, _ = parser.parse_known_args(args)
    if named.config:
        data, origin = merged_config_data(named.config, named.env)
    else:
        overlay = Path("conf/env") / f"{named.env or os.environ.get('LAKEFORGE_ENV') or DEFAULT_ENV}.yml"
        data, origin = (load_yaml(overlay), str(overlay)) if overlay.is_file() else ({}, "defaults")
    return load_model(SparkSettings, data.get("platform", {}).get("spark", {}), origin=f"{origin}: platform.spark").driver_memory


@contextmanager
def submission(job: str, args: list[str], target: ClusterTarget | None) -> Iterator[Submission]:
    """The command running `job` with `args`: local mode (the job's config decides) when target is None."""
    env = dict(os.environ)
    if target is None:
        env.setdefault("PYSPARK_PYTHON", sys.executable)
        jars = ",".join(pinned_jars(os.path.join(os.environ.get("LAKEFORGE_WORK", ".work"), "jars")))
        yield Submission([spark_submit_binary(), "--driver-memory", local_driver_memory(args), "--jars", jars, job, *args], env)
        return
    secret = read_secret(target.secret_env)
    with tempfile.TemporaryDirectory(prefix="lakeforge-submit-") as folder:
        properties = None
        if secret is not None:
            properties = os.path.join(folder, "secret.properties")
            descriptor = os.open(properties, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(f"spark.authenticate true\nspark.authenticate.secret {secret}\n")
        yield Submission([*cluster_argv(target, properties), job, *args], env)
