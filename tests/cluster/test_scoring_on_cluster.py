"""jobs/score_churn.py on the standalone cluster: the champion's predictions and inference log rows
equal local mode's, row for row by customer."""

from __future__ import annotations

import pandas as pd
import pytest
from mlflow import MlflowClient

from cluster.cluster_jobs import submit, write_conf
from cluster.test_training_on_cluster import CHURN, TOLERANCE, train
from lakeforge.tables.layout import Lakehouse

def deployment_conf(data: str, output_table: str, inference_log: str) -> dict:
    return {"models": {"churn": {
        "registered_model": CHURN["tracking"]["registered_model"],
        "evaluation": {"data": {"path": data, "label": "Churn"}},
        "scoring": {"data": {"path": data, "label": "Churn"}, "key": "customerID", "output_table": output_table, "inference_log": inference_log},
    }}}


def test_batch_scoring_on_the_cluster_matches_local_mode(spark, tmp_path, on_cluster):
    train(tmp_path, "churn", "local", None)  # registers the model (alias challenger) in mlflow-local.db
    client, name = MlflowClient(f"sqlite:///{tmp_path}/mlflow-local.db"), CHURN["tracking"]["registered_model"]
    client.set_registered_model_alias(name, "champion", client.get_model_version_by_alias(name, "challenger").version)
    customers = len(pd.read_csv(tmp_path / "churn.csv"))
    data = str(tmp_path / "churn.csv")
    overlay = {"platform": {"spark": {"master": "local[2]", "progress_bar": False, "driver_memory": "1g"},
                            "storage": {"root": str(tmp_path / "lake-local"), "landing": str(tmp_path)},
                            "mlflow_tracking_uri": f"sqlite:///{tmp_path}/mlflow-local.db"}}
    runs = {"local": None, "cluster": on_cluster}
    conf = write_conf(tmp_path / "score-conf", {f"{name}.yml": deployment_conf(data, f"predictions_{name}", f"inference_log_{name}") for name in runs}, overlay)
    env = {"LAKEFORGE_LAKEHOUSE_ROOT": str(tmp_path / "lake-local"), "LAKEFORGE_LANDING_ROOT": str(tmp_path), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow-local.db"}
    for name, target in runs.items():
        result = submit("jobs/score_churn.py", ["--config", str(conf / f"{name}.yml"), "--env", "local" if target is None else "cluster"], target, env)
        assert result.returncode == 0, result.stderr[-3000:]

    lake = Lakehouse(str(tmp_path / "lake-local"))
    predictions = {name: {row.customerID: (row.probability, row.prediction, row.model_version)
                          for row in spark.read.format("delta").load(lake.gold(f"predictions_{name}")).collect()} for name in runs}
    assert len(predictions["local"]) == customers == len(predictions["cluster"])
    assert predictions["cluster"].keys() == predictions["local"].keys()
    for customer, (probability, prediction, version) in predictions["local"].items():
        assert predictions["cluster"][customer] == (pytest.approx(probability, abs=TOLERANCE), prediction, version)
    logs = {name: {row.entity_id: (row.inputs, row.prediction) for row in spark.read.format("delta").load(lake.system(f"inference_log_{name}")).collect()}
            for name in runs}
    assert logs["cluster"] == logs["local"] and len(logs["local"]) == customers
