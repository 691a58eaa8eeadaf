"""jobs/train_churn.py on the standalone cluster: the same models and metrics as local mode for the same seed."""

from __future__ import annotations

import json

import pytest

from cluster.cluster_jobs import WORK, submit, write_conf
from lakeforge.training.sample_data import telco_frame, write_csv

# Spark ML's results depend on the partitioning (local[2] and 2 one-core executors both give 2 partitions)
# and on floating-point summation order; metrics agree to far better than this.
TOLERANCE = 1e-6

CHURN = {
    "name": "churn_cluster",
    "task": "classification",
    "data": {"label": "Churn"},
    "validation": {"folds": 2, "seed": 11, "parallelism": 2, "class_weights": True},
    "models": {"logistic_regression": {"kind": "logistic_regression", "params": {"maxIter": 20}, "grid": {"regParam": [0.01, 0.1]}}},
    "tracking": {"experiment": "churn-cluster", "registered_model": "churn_cluster"},
}


def train(tmp_path, name: str, target) -> dict:
    telco = write_csv(telco_frame(rows=400, seed=3), tmp_path / "telco.csv")
    overlay = {"platform": {"spark": {"master": "local[2]", "jars_dir": str(WORK / "jars"), "progress_bar": False, "driver_memory": "1g"},
                            "storage": {"root": "${LAKEFORGE_LAKEHOUSE_ROOT}", "landing": "${LAKEFORGE_LANDING_ROOT}"},
                            "mlflow_tracking_uri": "${MLFLOW_TRACKING_URI}"}}
    conf = write_conf(tmp_path / "conf", {"churn.yml": {**CHURN, "data": {**CHURN["data"], "path": str(telco)}}}, overlay)
    env = {"LAKEFORGE_LAKEHOUSE_ROOT": str(tmp_path / f"lake-{name}"), "LAKEFORGE_LANDING_ROOT": str(tmp_path),
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow-{name}.db"}
    args = ["--config", str(conf / "churn.yml"), "--env", "local" if target is None else "cluster", "--json"]
    result = submit("jobs/train_churn.py", args, target, env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout[result.stdout.index("{"):])


def metrics(summary: dict) -> dict[str, float]:
    """The model's CV (mean and std per metric) and test metrics, flattened to dotted names."""
    def flat(prefix: str, value) -> dict[str, float]:
        if isinstance(value, dict):
            return {key: number for name, item in value.items() for key, number in flat(f"{prefix}.{name}", item).items()}
        return {prefix: value} if isinstance(value, float) else {}

    model = summary["models"]["logistic_regression"]
    return {**flat("cv", model["cv"]), **flat("test", model["test"])}


def test_churn_training_on_the_cluster_matches_local_mode(tmp_path_factory, on_cluster):
    folder = tmp_path_factory.mktemp("churn")
    local, cluster = train(folder, "local", None), train(folder, "cluster", on_cluster)
    assert cluster["rows"] == local["rows"] and cluster["features"] == local["features"]
    assert cluster["models"]["logistic_regression"]["best_params"] == local["models"]["logistic_regression"]["best_params"]
    expected = metrics(local)
    assert len(expected) >= 4 and "test.roc_auc" in expected and "cv.roc_auc.mean" in expected
    assert metrics(cluster) == pytest.approx(expected, abs=TOLERANCE)
