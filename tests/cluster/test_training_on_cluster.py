"""jobs/train_churn.py and jobs/train_housing.py on the standalone cluster: the same models and metrics as
local mode for the same seed."""

from __future__ import annotations

import json

import pytest

from cluster.cluster_jobs import WORK, submit, write_conf
from lakeforge.training.sample_data import housing_frame, telco_frame, write_csv

# Spark ML's results depend on the partitioning (local[2] and 2 one-core executors both give 2 partitions)
# and on floating-point summation order; metrics agree to far better than this (relative for dollar-sized ones).
TOLERANCE = 1e-6

CHURN = {
    "name": "churn_cluster",
    "task": "classification",
    "data": {"label": "Churn"},
    "validation": {"folds": 2, "seed": 11, "parallelism": 2, "class_weights": True},
    "models": {"logistic_regression": {"kind": "logistic_regression", "params": {"maxIter": 20}, "grid": {"regParam": [0.01, 0.1]}}},
    "tracking": {"experiment": "churn-cluster", "registered_model": "churn_cluster"},
}


HOUSING = {
    "name": "housing_cluster",
    "task": "regression",
    "data": {"label": "median_house_value"},
    "validation": {"folds": 2, "seed": 11, "parallelism": 2},
    "models": {"ridge": {"kind": "linear_regression", "params": {"elasticNetParam": 0.0}, "grid": {"regParam": [1.0, 100.0]}}},
    "tracking": {"experiment": "housing-cluster", "registered_model": "housing_cluster"},
}
# job, its config, the generated data
TRAININGS = {
    "churn": ("jobs/train_churn.py", CHURN, lambda: telco_frame(rows=400, seed=3)),
    "housing": ("jobs/train_housing.py", HOUSING, lambda: housing_frame(rows=400, seed=3)),
}


def train(tmp_path, task: str, name: str, target) -> dict:
    job, config, frame = TRAININGS[task]
    data = write_csv(frame(), tmp_path / f"{task}.csv")
    overlay = {"platform": {"spark": {"master": "local[2]", "jars_dir": str(WORK / "jars"), "progress_bar": False, "driver_memory": "1g"},
                            "storage": {"root": "${LAKEFORGE_LAKEHOUSE_ROOT}", "landing": "${LAKEFORGE_LANDING_ROOT}"},
                            "mlflow_tracking_uri": "${MLFLOW_TRACKING_URI}"}}
    conf = write_conf(tmp_path / "conf", {f"{task}.yml": {**config, "data": {**config["data"], "path": str(data)}}}, overlay)
    env = {"LAKEFORGE_LAKEHOUSE_ROOT": str(tmp_path / f"lake-{name}"), "LAKEFORGE_LANDING_ROOT": str(tmp_path),
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow-{name}.db"}
    args = ["--config", str(conf / f"{task}.yml"), "--env", "local" if target is None else "cluster", "--json"]
    result = submit(job, args, target, env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout[result.stdout.index("{"):])


def metrics(summary: dict, model: str) -> dict[str, float]:
    """The model's CV (mean and std per metric) and test metrics, flattened to dotted names."""
    def flat(prefix: str, value) -> dict[str, float]:
        if isinstance(value, dict):
            return {key: number for name, item in value.items() for key, number in flat(f"{prefix}.{name}", item).items()}
        return {prefix: value} if isinstance(value, float) else {}

    result = summary["models"][model]
    return {**flat("cv", result["cv"]), **flat("test", result["test"])}


@pytest.mark.parametrize(("task", "metric"), [("churn", "roc_auc"), ("housing", "rmse")])
def test_training_on_the_cluster_matches_local_mode(tmp_path_factory, on_cluster, task, metric):
    folder = tmp_path_factory.mktemp(task)
    local, cluster = train(folder, task, "local", None), train(folder, task, "cluster", on_cluster)
    (model,) = TRAININGS[task][1]["models"]
    assert cluster["rows"] == local["rows"] and cluster["features"] == local["features"]
    assert cluster["models"][model]["best_params"] == local["models"][model]["best_params"]
    expected = metrics(local, model)
    assert len(expected) >= 4 and f"test.{metric}" in expected and f"cv.{metric}.mean" in expected
    assert metrics(cluster, model) == pytest.approx(expected, rel=TOLERANCE, abs=TOLERANCE)  # rmse is in dollars
