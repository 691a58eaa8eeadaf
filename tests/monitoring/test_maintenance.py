"""End to end on a real churn model: score into the inference log, delayed labels, monitors, an alert
posted to a webhook, retraining whose challenger goes through the deployment gate."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import mlflow
import pytest
import yaml
from helpers import write_test_overlay
from monitoring.receiver import WebhookReceiver
from pyspark.sql import functions as F

from lakeforge.config import load_config
from lakeforge.monitoring.config import MonitoringConfig
from lakeforge.monitoring.paths import MonitorPaths
from lakeforge.monitoring.report import write_and_log_report
from lakeforge.monitoring.run import run_monitors
from lakeforge.monitoring.scoring import label_rows, score_into_log
from lakeforge.tables.inference import append_labels
from lakeforge.training.config import TrainingConfig
from lakeforge.training.run import train_and_track
from lakeforge.training.sample_data import telco_frame, write_csv

DAY0 = datetime(2026, 3, 1)
TOKEN = "test-webhook-token"

CHURN = {
    "name": "churn_monitored",
    "task": "classification",
    # A few strong features keep training and the monitors quick.
    "data": {"label": "Churn", "exclude": ["gender", "Partner", "Dependents", "PhoneService", "MultipleLines", "OnlineSecurity", "OnlineBackup",
                                           "DeviceProtection", "TechSupport", "StreamingTV", "StreamingMovies", "PaperlessBilling", "TotalCharges"]},
    "validation": {"folds": 2, "seed": 5, "parallelism": 2, "class_weights": True},
    "models": {"logistic_regression": {"kind": "logistic_regression", "params": {"maxIter": 20, "regParam": 0.01}}},
    "tracking": {"experiment": "churn-monitored", "registered_model": "churn_monitored"},
}


def deployment(data: str) -> dict:
    return {"log_table": "deployments", "models": {"churn": {
        "registered_model": "churn_monitored", "run_mode": "dry_run", "experiment": "churn-monitored-deployment",
        "evaluation": {"data": {"path": data, "label": "Churn"}, "holdout": {"test_fraction": 0.2, "seed": 5}},
        "gate": {"metrics": {"roc_auc": {"min": 0.6}}, "data": {"min_rows": 20}},
    }}}


def monitoring(conf, webhook: str) -> dict:
    return {
        "name": "churn-monitoring-test",
        "model": {"registered_model": "churn_monitored", "alias": "challenger", "entity_key": "customerID", "label": "Churn"},
        "rules": [{"name": "auc_drop", "monitor": "quality", "metric": "roc_auc", "threshold": 0.6, "direction": "below",
                   "severity": "critical", "retrain": True}],
        "webhook": {"url": webhook, "token_env": "TEST_WEBHOOK_TOKEN"},
        "retrain": {"mode": "enabled", "training_config": str(conf / "churn.yml"), "deployment_config": str(conf / "deployment.yml"),
                    "deployment_model": "churn"},
    }


@pytest.fixture(scope="module")
def receiver():
    with WebhookReceiver(TOKEN) as running:
        yield running


@pytest.fixture(scope="module")
def setup(tmp_path_factory, spark, receiver):
    root = tmp_path_factory.mktemp("monitoring")
    conf = root / "conf"
    write_test_overlay(conf, root)
    data = write_csv(telco_frame(rows=500, seed=8), root / "data/telco.csv")
    (conf / "churn.yml").write_text(yaml.safe_dump({**CHURN, "data": {**CHURN["data"], "path": str(data)}}))
    (conf / "deployment.yml").write_text(yaml.safe_dump(deployment(str(data))))
    (conf / "monitoring.yml").write_text(yaml.safe_dump(monitoring(conf, receiver.url)))
    config = load_config(conf / "monitoring.yml", MonitoringConfig, env="test")
    _, tracked = train_and_track(spark, load_config(conf / "churn.yml", TrainingConfig, env="test"))
    return config, tracked, telco_frame(rows=400, seed=9)


def test_quality_drop_after_delayed_labels_alerts_posts_and_retrains_through_the_gate(spark, setup, receiver, monkeypatch):
    monkeypatch.setenv("TEST_WEBHOOK_TOKEN", TOKEN)
    config, tracked, customers = setup
    paths = MonitorPaths.of(config)
    day0, day1 = spark.createDataFrame(customers[:200]), spark.createDataFrame(customers[200:])
    score_into_log(day0, config.model, tracked.model_version, paths.inferences, scored_at=DAY0)
    score_into_log(day1, config.model, tracked.model_version, paths.inferences, scored_at=DAY0 + timedelta(days=1))
    assert spark.read.format("delta").load(paths.inferences).count() == 400

    # The outcomes arrive days later: day 0's as they happened, day 1's the opposite of what the model
    # learnt, so its ROC-AUC on day 1 falls below 0.5 while day 0 stays as good as in training.
    append_labels(label_rows(day0, config.model, observed_at=DAY0 + timedelta(days=2)), paths.labels)
    flipped = day1.withColumn("Churn", F.when(F.col("Churn") == "Yes", "No").otherwise("Yes"))
    append_labels(label_rows(flipped, config.model, observed_at=DAY0 + timedelta(days=3)), paths.labels)
    result = run_monitors(spark, config, now=DAY0 + timedelta(days=3), env="test")

    quality = {row["window_start"].day: row for row in spark.read.format("delta").load(paths.quality).collect()}
    assert quality[1]["roc_auc"] > 0.6 and quality[2]["roc_auc"] < 0.5 and quality[2]["labelled"] == 200
    assert [(alert["rule"], alert["observed_at"]) for alert in result.alerts] == [("auc_drop", DAY0 + timedelta(days=1))]
    assert [body["rule"] for body in receiver.bodies] == ["auc_drop"] and receiver.refused == 0
    assert receiver.bodies[0]["value"] == pytest.approx(quality[2]["roc_auc"])

    decision = result.decision
    assert decision.outcome == "retrained" and decision.challenger_version == str(int(tracked.model_version) + 1)
    gate = spark.read.format("delta").load(f"{config.platform.storage.root}/_system/deployments").where("step = 'validate'").collect()
    assert [row["challenger_version"] for row in gate] == [decision.challenger_version]
    assert decision.gate[0].startswith("validate=")
    logged = spark.read.format("delta").load(paths.decisions).collect()
    assert [(row["outcome"], row["alert_ids"]) for row in logged] == [("retrained", [result.alerts[0]["alert_id"]])]


def test_report_draws_every_feature_drift_and_quality_and_is_logged_to_mlflow(spark, setup, tmp_path):
    config, _, customers = setup
    path = write_and_log_report(spark, config, str(tmp_path))
    page = (tmp_path / "report.html").read_text()
    features = set(customers.columns) - set(CHURN["data"]["exclude"]) - {"customerID", "Churn"}
    # One distribution per feature, PSI / KS / JS over time, one quality chart.
    assert page.count("<img") == len(features) + 4
    assert "Quality over time" in page and "roc_auc" in page
    assert Path(mlflow.artifacts.download_artifacts(artifact_uri=path)).read_text() == page
