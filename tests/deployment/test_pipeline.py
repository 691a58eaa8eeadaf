"""The pipeline on the local target: gate, promotion, smoke test, rollback, run modes, the log."""

from __future__ import annotations

import numpy as np
import pytest
from mlflow import MlflowClient
from pyspark.ml.functions import vector_to_array
from pyspark.sql import functions as F
from sklearn.metrics import roc_auc_score

from lakeforge.deployment.config import SmokeCase
from lakeforge.deployment.pipeline import roll_back, run_deployment, start
from lakeforge.deployment.registry import ModelRegistry, RollbackError
from lakeforge.training.stratified import split_train_test

WRONG_ANSWER = [SmokeCase(name="stayer said to churn", row={"tenure": 70, "MonthlyCharges": 20.0, "Contract": "Two year"}, prediction=1.0)]


def deploy(workspace, model_name, **overrides):
    run = start(workspace.spark, workspace.config(model_name, **overrides), "churn")
    return run_deployment(run), run


def steps(decisions) -> list[tuple[str, str]]:
    return [(d.step, d.outcome) for d in decisions]


def logged(run) -> list[tuple[str, str, bool, list[str]]]:
    rows = run.log.read(run.spec.registered_model).where(F.col("deployment_id") == run.deployment_id).orderBy("decided_at").collect()
    return [(r.step, r.outcome, r.passed, list(r.reasons)) for r in rows]


def with_champion(workspace, model_name, kind="weak") -> str:
    version = workspace.register(model_name, kind)
    deploy(workspace, model_name)
    assert ModelRegistry(model_name).aliases().champion == version
    return version


def holdout_auc(workspace, kind: str, columns: list[str]) -> float:
    """ROC-AUC by scikit-learn on the rows training's split holds out (fraction 0.3, seed 3)."""
    frame = workspace.spark.read.option("header", "true").csv(str(workspace.data))
    labelled = frame.select(*columns, (F.col("Churn") == "Yes").cast("double").alias("__label"))
    held_out = split_train_test(labelled, 0.3, 3, stratified=True)[1]
    scored = workspace.models[kind].transform(held_out).select("__label", vector_to_array("probability")[1].alias("p")).toPandas()
    return roc_auc_score(scored["__label"], scored["p"])


def test_first_model_passes_on_absolute_thresholds_goes_live_and_has_nothing_to_roll_back_to(workspace, model_name):
    version = workspace.register(model_name, "weak")
    decisions, run = deploy(workspace, model_name)
    assert steps(decisions) == [("validate", "passed"), ("promote", "promoted"), ("deploy", "deployed")]
    assert "first model: absolute thresholds only" in decisions[0].reasons[0]
    aliases = ModelRegistry(model_name).aliases()
    assert (aliases.champion, aliases.previous) == (version, None)
    assert [row[:3] for row in logged(run)] == [("validate", "passed", True), ("promote", "promoted", True), ("deploy", "deployed", True)]
    report = MlflowClient().get_run(decisions[0].mlflow_run_id)
    assert report.data.tags["lakeforge.validation"] == "passed"
    assert {"report/report.md", "report/validation.json"} <= {a.path for a in MlflowClient().list_artifacts(report.info.run_id, "report")}

    by_hand = start(workspace.spark, workspace.config(model_name), "churn")
    with pytest.raises(RollbackError, match="no version holds the alias 'previous'"):
        roll_back(by_hand, ["manual rollback: test"], withdraw=False)
    assert ModelRegistry(model_name).aliases().champion == version
    assert [row[:3] for row in logged(by_hand)] == [("rollback", "refused", False)]


def test_worse_challenger_is_refused_with_its_reasons_and_the_champion_unchanged(workspace, model_name):
    champion = with_champion(workspace, model_name)
    worse = workspace.register(model_name, "shuffled")
    columns = ["tenure", "MonthlyCharges", "Contract"]
    champion_auc, worse_auc = holdout_auc(workspace, "weak", columns), holdout_auc(workspace, "shuffled", columns)
    assert worse_auc < champion_auc - 0.005  # the premise, measured by scikit-learn

    decisions, run = deploy(workspace, model_name)
    assert steps(decisions) == [("validate", "refused")]
    reasons = decisions[0].reasons
    assert any(r.startswith("metric.roc_auc.max_drop") and f"{worse_auc:.4f} vs champion {champion_auc:.4f}" in r for r in reasons), reasons
    assert any(r.startswith("metric.roc_auc.min") for r in reasons) == (worse_auc < 0.55)
    aliases = ModelRegistry(model_name).aliases()
    assert (aliases.challenger, aliases.champion, aliases.previous) == (worse, champion, None)
    assert logged(run) == [("validate", "refused", False, reasons)]
    assert MlflowClient().get_model_version(model_name, worse).tags["lakeforge.deployment"] == "refused"


def test_better_challenger_is_promoted_and_the_old_champion_kept_as_previous(workspace, model_name):
    old = with_champion(workspace, model_name)
    better = workspace.register(model_name, "good")
    decisions, run = deploy(workspace, model_name)
    assert steps(decisions) == [("validate", "passed"), ("promote", "promoted"), ("deploy", "deployed")]
    assert decisions[1].reasons == [f"champion {old} -> {better}; {old} keeps 'previous'"]
    aliases = ModelRegistry(model_name).aliases()
    assert (aliases.champion, aliases.previous) == (better, old)
    assert [row[:2] for row in logged(run)] == steps(decisions)


def test_failing_smoke_test_rolls_back_to_the_previous_champion(workspace, model_name):
    old = with_champion(workspace, model_name)
    new = workspace.register(model_name, "good")
    case = workspace.spark.createDataFrame([{k: str(v) for k, v in WRONG_ANSWER[0].row.items()}])
    assert workspace.models["good"].transform(case).first()["prediction"] == 0.0  # so the smoke case's 1.0 is wrong

    decisions, run = deploy(workspace, model_name, smoke=WRONG_ANSWER)
    assert steps(decisions) == [("validate", "passed"), ("promote", "promoted"), ("smoke_test", "failed"), ("rollback", "rolled_back")]
    assert decisions[2].reasons == [f"smoke case 'stayer said to churn': version {new} predicted 0.0, expected 1.0"]
    assert decisions[3].reasons[:2] == [f"version {new} failed its smoke test on local", decisions[2].reasons[0]]
    assert f"champion {new} -> {old}" in decisions[3].reasons
    aliases = ModelRegistry(model_name).aliases()
    assert (aliases.champion, aliases.previous) == (old, None)
    assert MlflowClient().get_model_version(model_name, new).tags["lakeforge.deployment"] == "rolled_back"
    assert [row[:2] for row in logged(run)] == steps(decisions)


def test_dry_run_validates_and_logs_but_changes_nothing(workspace, model_name):
    champion = with_champion(workspace, model_name)
    challenger = workspace.register(model_name, "good")
    decisions, run = deploy(workspace, model_name, run_mode="dry_run")
    assert steps(decisions) == [("validate", "passed"), ("promote", "skipped")]
    assert decisions[1].reasons == [f"dry_run: would promote version {challenger} over champion {champion}; nothing changed"]
    aliases = ModelRegistry(model_name).aliases()
    assert (aliases.challenger, aliases.champion, aliases.previous) == (challenger, champion, None)
    assert "lakeforge.deployment" not in MlflowClient().get_model_version(model_name, challenger).tags


def test_disabled_only_logs_that_it_skipped(workspace, model_name):
    workspace.register(model_name, "good")
    decisions, run = deploy(workspace, model_name, run_mode="disabled")
    assert logged(run) == [("run", "skipped", True, ["run_mode is disabled"])]
    assert ModelRegistry(model_name).aliases().champion is None


def test_the_log_holds_every_decision_of_every_run(workspace, model_name):
    runs = []
    workspace.register(model_name, "weak")
    runs.append(deploy(workspace, model_name))
    workspace.register(model_name, "shuffled")
    runs.append(deploy(workspace, model_name, run_mode="dry_run"))
    runs.append(deploy(workspace, model_name))
    expected = [(d.deployment_id, d.step, d.outcome) for decisions, _ in runs for d in decisions]
    log = runs[0][1].log.read(model_name).orderBy("decided_at").collect()
    assert [(r.deployment_id, r.step, r.outcome) for r in log] == expected
    assert len({deployment_id for deployment_id, *_ in expected}) == 3
    assert np.all([len(r.reasons) > 0 for r in log])
