"""`lakeforge deploy rollback|log` and `lakeforge score churn` as a user runs them."""

from __future__ import annotations

import json

from pyspark.ml.functions import vector_to_array
from pyspark.sql import functions as F

from lakeforge.cli import main
from lakeforge.deployment.pipeline import run_deployment, start
from lakeforge.deployment.registry import ModelRegistry


def test_rollback_by_hand_then_the_log_and_scoring_with_the_restored_champion(workspace, model_name, capsys):
    conf = workspace.write_conf(model_name)
    common = ["--config", str(conf), "--env", "test"]
    first = workspace.register(model_name, "weak")
    run_deployment(start(workspace.spark, workspace.config(model_name), "churn"))
    second = workspace.register(model_name, "good")
    run_deployment(start(workspace.spark, workspace.config(model_name), "churn"))
    assert ModelRegistry(model_name).aliases().champion == second

    assert main(["deploy", "rollback", *common, "--model", "churn", "--reason", "scores look off"]) == 0
    aliases = ModelRegistry(model_name).aliases()
    assert (aliases.champion, aliases.previous) == (first, None)
    capsys.readouterr()

    assert main(["deploy", "log", *common, "--model", "churn", "--json"]) == 0
    latest = json.loads(capsys.readouterr().out)[0]
    assert (latest["step"], latest["outcome"], latest["champion_version"], latest["challenger_version"]) == ("rollback", "rolled_back", first, second)
    assert latest["reasons"][:2] == ["manual rollback: scores look off", f"champion {second} -> {first}"]

    assert main(["score", "churn", *common]) == 0
    assert f"with churn version {first}" in capsys.readouterr().out
    table = f"{workspace.root}/lakehouse/gold/churn_predictions"
    written = workspace.spark.read.format("delta").load(table).where(F.col("model_version") == first)
    raw = workspace.spark.read.option("header", "true").csv(str(workspace.data))
    expected = workspace.models["weak"].transform(raw).select("customerID", vector_to_array("probability")[1].alias("expected"))
    joined = written.join(expected, "customerID").select((F.abs(F.col("probability") - F.col("expected")) < 1e-12).alias("same")).collect()
    assert len(joined) == raw.count() == 600 and all(row.same for row in joined)

    # The same predictions, one row each, in the inference log monitoring reads.
    logged = workspace.spark.read.format("delta").load(f"{workspace.root}/lakehouse/_system/inference_log").where(F.col("model_version") == first)
    assert logged.count() == 600 and logged.select("request_id").distinct().count() == 600
    pairs = logged.join(written.withColumn("entity_id", F.col("customerID").cast("string")), "entity_id")
    assert pairs.where((F.col("score") == F.col("probability")) & (logged.prediction == written.prediction) & (logged.scored_at == written.scored_at)).count() == 600
    assert logged.where((F.col("model_name") == model_name) & (F.map_keys("inputs") == F.array(F.lit("MonthlyCharges")))).count() == 600
