"""Benchmark: the cluster path's overhead. Batch ingestion (jobs/ingest.py, the customers source) and
churn cross-validation (jobs/train_churn.py, logistic regression, 5 folds) submitted to the 2-worker
standalone cluster against the same jobs in local mode (local[2]) on the same machine and data.

    .venv/bin/python scripts/bench/cluster.py [--rows 1000000]

Writes bench/results/cluster.json. Each time is a whole spark-submit (JVM start, executors, the job),
which is what a scheduled job costs. Both sides get 2 cores: local[2], or 2 executors of 1 core; on the
cluster the code ships as dist/lakeforge.zip and the Python dependencies as the packed environment when
dist/lakeforge-env.tar.gz exists (make dist), else the executors use this machine's dependency layer.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyspark
import yaml

from lakeforge.demo.generate import MAX_CUSTOMERS, generate_demo
from lakeforge.training.sample_data import telco_frame, write_csv
from lakeforge.workflows.config import ClusterTarget
from lakeforge.workflows.submit import submission

ROOT = Path(__file__).resolve().parents[2]
WORK = Path(os.environ.get("LAKEFORGE_WORK", ROOT / ".work"))
BENCH = WORK / "bench" / "cluster"
CHURN = {
    "name": "churn_bench", "task": "classification", "data": {"label": "Churn"},
    "validation": {"folds": 5, "seed": 11, "parallelism": 2, "class_weights": True},
    "models": {"logistic_regression": {"kind": "logistic_regression", "params": {"maxIter": 50}, "grid": {"regParam": [0.01, 0.1]}}},
    "tracking": {"experiment": "churn-bench", "registered_model": "churn_bench"},
}


def cluster_settings() -> dict[str, str]:
    path = WORK / "services/spark-cluster/credentials.env"
    subprocess.run(["bash", str(ROOT / "scripts/services/spark-cluster.sh"), "up"], check=True, capture_output=True)
    return dict(word.split("=", 1) for word in shlex.split(path.read_text()) if "=" in word)


def shipped_code() -> Path:
    dist = BENCH / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(dist), str(ROOT)], check=True)
    return Path(shutil.copy(next(dist.glob("lakeforge-*.whl")), dist / "lakeforge.zip"))


def target(settings: dict[str, str], code: Path) -> ClusterTarget:
    archive = ROOT / "dist/lakeforge-env.tar.gz"
    deps_python = str(Path(pyspark.__file__).parents[4] / "bin" / "python")  # site-packages/pyspark -> the env
    return ClusterTarget(
        master=settings["LAKEFORGE_SPARK_MASTER"], code=str(code), env_archive=str(archive) if archive.is_file() else None,
        executor_python=None if archive.is_file() else deps_python, jars_dir=str(WORK / "jars"),
        event_log_dir=settings["LAKEFORGE_SPARK_EVENTS"], executor_memory="1500m",
        conf={"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1", "spark.ui.enabled": "false",
              "spark.sql.shuffle.partitions": "4", "spark.driver.memory": "2g"},
    )


def write_conf(folder: Path, rows: int) -> Path:
    """conf/ with the customer360 pipeline, the churn config on `rows` Telco rows, env/local.yml and env/cluster.yml."""
    (folder / "env").mkdir(parents=True, exist_ok=True)
    overlay = {"platform": {"spark": {"master": "local[2]", "jars_dir": str(WORK / "jars"), "progress_bar": False, "driver_memory": "3g"},
                            "storage": {"root": "${LAKEFORGE_LAKEHOUSE_ROOT}", "landing": "${LAKEFORGE_LANDING_ROOT}"},
                            "mlflow_tracking_uri": "${MLFLOW_TRACKING_URI}"}}
    (folder / "env/local.yml").write_text(yaml.safe_dump(overlay))
    shutil.copy(ROOT / "conf/env/cluster.yml", folder / "env/cluster.yml")
    shutil.copy(ROOT / "conf/customer360.yml", folder / "customer360.yml")
    telco = write_csv(telco_frame(rows=rows, seed=3), BENCH / "data" / f"telco_{rows}.csv")
    (folder / "churn.yml").write_text(yaml.safe_dump({**CHURN, "data": {**CHURN["data"], "path": str(telco)}}, sort_keys=False))
    return folder


def timed_submit(job: str, args: list[str], where: ClusterTarget | None, env: dict[str, str]) -> float:
    started = time.perf_counter()
    with submission(str(ROOT / job), args, where) as command:
        result = subprocess.run(command.argv, env={**command.env, **env}, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{job} on {'the cluster' if where else 'local[2]'} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - started


def run_size(rows: int, cluster: ClusterTarget) -> dict:
    folder = BENCH / f"rows_{rows}"
    shutil.rmtree(folder, ignore_errors=True)
    conf = write_conf(folder / "conf", rows)
    generate_demo(folder / "landing", folder / "seed", customers=min(rows, MAX_CUSTOMERS), seed=7)  # ids are C + six digits
    seconds = {}
    for side, where in (("local", None), ("cluster", cluster)):
        env = {"LAKEFORGE_LAKEHOUSE_ROOT": str(folder / f"lake-{side}"), "LAKEFORGE_LANDING_ROOT": str(folder / "landing"),
               "MLFLOW_TRACKING_URI": f"sqlite:///{folder}/mlflow-{side}.db"}
        mode = ["--env", "local" if where is None else "cluster"]
        seconds[f"ingest_{side}"] = timed_submit("jobs/ingest.py", ["--config", str(conf / "customer360.yml"), *mode, "--source", "customers"], where, env)
        seconds[f"churn_cv_{side}"] = timed_submit("jobs/train_churn.py", ["--config", str(conf / "churn.yml"), *mode, "--json"], where, env)
    return {
        "rows": rows,
        "seconds": {name: round(value, 1) for name, value in seconds.items()},
        # cluster time / local time: 1.0 means the cluster path costs nothing extra.
        "ingest_cluster_over_local": round(seconds["ingest_cluster"] / seconds["ingest_local"], 3),
        "churn_cv_cluster_over_local": round(seconds["churn_cv_cluster"] / seconds["churn_cv_local"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--out", default=str(ROOT / "bench/results/cluster.json"))
    args = parser.parse_args()

    settings = cluster_settings()
    os.environ["LAKEFORGE_SPARK_SECRET"] = settings["LAKEFORGE_SPARK_SECRET"]
    cluster = target(settings, shipped_code())
    results = [run_size(rows, cluster) for rows in args.rows]
    report = {
        "benchmark": "cluster: jobs/ingest.py (customers) and churn 5-fold CV, 2-worker standalone cluster vs local[2]",
        "goal": "the cluster path's overhead, measured (cluster / local time)",
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "spark": pyspark.__version__,
                    "date": time.strftime("%Y-%m-%d", time.gmtime()), "load_average_1m": round(os.getloadavg()[0], 1),
                    "executors": "2 x 1 core, " + cluster.executor_memory,
                    "executor_python": "packed env (--archives)" if cluster.env_archive else "dependency layer"},
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
