"""The AWS target for batch scoring against moto's server on loopback: the CloudFormation stack from
infra/, then S3 archives and an EventBridge schedule of ECS scoring tasks created, updated and rolled
back through boto3, and `lakeforge score churn` scoring with the archive the schedule's task gets."""

from __future__ import annotations

import hashlib

import boto3
import pytest
from aws_stack import aws_spec, running_model_uri
from pyspark.ml.functions import vector_to_array
from pyspark.sql import functions as F

from lakeforge.cli import main
from lakeforge.deployment.pipeline import roll_back, run_deployment, start
from lakeforge.deployment.registry import ModelRegistry
from lakeforge.deployment.scoring import fetch_scoring_model


def s3_object_matches_its_checksum(bucket: str, key: str) -> bool:
    s3 = boto3.client("s3")
    body = s3.get_object(Bucket=bucket, Key=key)
    return hashlib.sha256(body["Body"].read()).hexdigest() == body["Metadata"]["sha256"]


def test_the_stack_deploys_to_the_emulator(aws_stack):
    assert aws_stack["status"] == "CREATE_COMPLETE"
    assert boto3.client("s3").head_bucket(Bucket=aws_stack["ModelBucketName"])["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert boto3.client("ecs").describe_clusters(clusters=[aws_stack["ClusterName"]])["clusters"][0]["status"] == "ACTIVE"
    assert boto3.client("iam").get_role(RoleName=aws_stack["ScheduleRoleArn"].rsplit("/", 1)[1])["Role"]["Arn"] == aws_stack["ScheduleRoleArn"]


def test_deploy_creates_then_updates_the_schedule_and_rollback_restores_it(workspace, model_name, aws_stack, capsys):
    spec = aws_spec(aws_stack, model_name, online=False)
    config = workspace.config(model_name, target="aws", aws=spec)
    bucket, url = aws_stack["ModelBucketName"], f"s3://{aws_stack['ModelBucketName']}/models/{model_name}/{{}}/model.tar.gz"

    first = workspace.register(model_name, "weak")
    decisions = run_deployment(start(workspace.spark, config, "churn"))
    assert [(d.step, d.outcome) for d in decisions][-1] == ("deploy", "deployed")
    first_task, environment = running_model_uri(aws_stack, spec)
    assert environment == {"LAKEFORGE_MODEL_URI": url.format(first), "LAKEFORGE_MODEL_VERSION": first}
    assert boto3.client("events").describe_rule(Name=model_name)["ScheduleExpression"] == spec.ecs.schedule.expression
    assert s3_object_matches_its_checksum(bucket, f"models/{model_name}/{first}/model.tar.gz")

    second = workspace.register(model_name, "good")
    decisions = run_deployment(start(workspace.spark, config, "churn"))
    assert [(d.step, d.outcome) for d in decisions][-1] == ("deploy", "deployed")
    second_task, environment = running_model_uri(aws_stack, spec)
    assert (environment["LAKEFORGE_MODEL_URI"], second_task != first_task) == (url.format(second), True)
    assert s3_object_matches_its_checksum(bucket, f"models/{model_name}/{second}/model.tar.gz")

    decision = roll_back(start(workspace.spark, config, "churn"), ["manual rollback: test"])
    assert (decision.outcome, decision.passed) == ("rolled_back", True)
    assert running_model_uri(aws_stack, spec)[0] == first_task  # the first deployment's task definition again
    assert ModelRegistry(model_name).aliases().champion == first

    # What the scheduled task runs: scoring with the archive in its environment, not the registry's champion.
    conf = workspace.write_conf(model_name, scoring={**config.model("churn").scoring.model_dump(), "output_table": f"scored_{model_name}"})
    assert main(["score", "churn", "--config", str(conf), "--env", "test", "--model-uri", url.format(second)]) == 0
    assert f"with churn version {second}" in capsys.readouterr().out
    written = workspace.spark.read.format("delta").load(f"{workspace.root}/lakehouse/gold/scored_{model_name}")
    raw = workspace.spark.read.option("header", "true").csv(str(workspace.data))
    expected = workspace.models["good"].transform(raw).select("customerID", vector_to_array("probability")[1].alias("expected"))
    same = written.join(expected, "customerID").where(F.abs(F.col("probability") - F.col("expected")) < 1e-12)
    assert (written.count(), same.count(), {row.model_version for row in written.select("model_version").distinct().collect()}) == (600, 600, {second})


def test_an_archive_whose_bytes_changed_after_upload_is_refused(workspace, model_name, aws_stack, tmp_path):
    config = workspace.config(model_name, target="aws", aws=aws_spec(aws_stack, model_name, online=False))
    version = workspace.register(model_name, "weak")
    run_deployment(start(workspace.spark, config, "churn"))
    bucket, key = aws_stack["ModelBucketName"], f"models/{model_name}/{version}/model.tar.gz"
    s3 = boto3.client("s3")
    metadata = s3.head_object(Bucket=bucket, Key=key)["Metadata"]
    s3.put_object(Bucket=bucket, Key=key, Body=b"not the model", Metadata=metadata)  # same recorded checksum, other bytes
    with pytest.raises(ValueError, match=f"s3://{bucket}/{key}: SHA-256 .* does not match the {metadata['sha256']} recorded at upload"):
        fetch_scoring_model(model_name, f"s3://{bucket}/{key}", tmp_path)
