"""The AWS target against moto's server on loopback: the CloudFormation stack from infra/, then S3
artifacts and an ECS service created, updated and rolled back through boto3."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import boto3
import pytest

from lakeforge.deployment.config import AwsSpec, EcsSpec
from lakeforge.deployment.pipeline import roll_back, run_deployment, start
from lakeforge.deployment.registry import ModelRegistry

TEMPLATE = Path(__file__).resolve().parents[2] / "infra/model-deployment.yml"


@pytest.fixture(scope="module")
def stack(aws_emulator):
    """infra/model-deployment.yml deployed to the emulator; its outputs plus a subnet and security group."""
    cloudformation, suffix = boto3.client("cloudformation"), uuid.uuid4().hex[:8]
    name = f"lakeforge-test-{suffix}"
    cloudformation.create_stack(
        StackName=name, TemplateBody=TEMPLATE.read_text(), Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": "staging"}, {"ParameterKey": "BucketName", "ParameterValue": f"lakeforge-models-{suffix}"}],
    )
    described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    outputs["Subnet"] = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"]
    outputs["SecurityGroup"] = ec2.create_security_group(GroupName=f"serving-{suffix}", Description="serving", VpcId=vpc)["GroupId"]
    yield {"status": described["StackStatus"], **outputs}
    cloudformation.delete_stack(StackName=name)


def aws_spec(stack: dict, model_name: str) -> AwsSpec:
    return AwsSpec(bucket=stack["ModelBucketName"], prefix="models", ecs=EcsSpec(
        cluster=stack["ClusterName"], service=model_name, family=model_name, image=f"{stack['ServingRepositoryUri']}:test",
        execution_role_arn=stack["TaskExecutionRoleArn"], task_role_arn=stack["ServingTaskRoleArn"],
        subnets=[stack["Subnet"]], security_groups=[stack["SecurityGroup"]],
        wait_minutes=0,  # the emulator starts no tasks, so the service never reports them running
    ))


def serving(stack: dict, model_name: str) -> tuple[str, str]:
    """(task definition ARN, LAKEFORGE_MODEL_URI of its container) of the service, read with boto3."""
    ecs = boto3.client("ecs")
    service = ecs.describe_services(cluster=stack["ClusterName"], services=[model_name])["services"][0]
    container = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]["containerDefinitions"][0]
    return service["taskDefinition"], {v["name"]: v["value"] for v in container["environment"]}["LAKEFORGE_MODEL_URI"]


def s3_object_matches_its_checksum(bucket: str, key: str) -> bool:
    s3 = boto3.client("s3")
    body = s3.get_object(Bucket=bucket, Key=key)
    return hashlib.sha256(body["Body"].read()).hexdigest() == body["Metadata"]["sha256"]


def test_the_stack_deploys_to_the_emulator(stack):
    assert stack["status"] == "CREATE_COMPLETE"
    assert boto3.client("s3").head_bucket(Bucket=stack["ModelBucketName"])["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert boto3.client("ecs").describe_clusters(clusters=[stack["ClusterName"]])["clusters"][0]["status"] == "ACTIVE"


def test_deploy_creates_then_updates_the_service_and_rollback_restores_it(workspace, model_name, stack):
    config = workspace.config(model_name, target="aws", aws=aws_spec(stack, model_name))
    bucket, url = stack["ModelBucketName"], f"s3://{stack['ModelBucketName']}/models/{model_name}/{{}}/model.tar.gz"

    first = workspace.register(model_name, "weak")
    decisions = run_deployment(start(workspace.spark, config, "churn"))
    assert [(d.step, d.outcome) for d in decisions][-1] == ("deploy", "deployed")
    first_task, uri = serving(stack, model_name)
    assert uri == url.format(first)
    assert s3_object_matches_its_checksum(bucket, f"models/{model_name}/{first}/model.tar.gz")

    second = workspace.register(model_name, "good")
    decisions = run_deployment(start(workspace.spark, config, "churn"))
    assert [(d.step, d.outcome) for d in decisions][-1] == ("deploy", "deployed")
    second_task, uri = serving(stack, model_name)
    assert (uri, second_task != first_task) == (url.format(second), True)
    assert s3_object_matches_its_checksum(bucket, f"models/{model_name}/{second}/model.tar.gz")

    decision = roll_back(start(workspace.spark, config, "churn"), ["manual rollback: test"])
    assert (decision.outcome, decision.passed) == ("rolled_back", True)
    assert serving(stack, model_name) == (first_task, url.format(first))  # the first deployment's task definition again
    assert ModelRegistry(model_name).aliases().champion == first
