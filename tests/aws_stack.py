"""moto's AWS API on loopback, and infra/model-deployment.yml deployed to it once per test run, for
every test of the aws deployment target (registered as fixtures by tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest

from lakeforge.deployment.config import AwsSpec, EcsSpec, ScheduleSpec

ROOT = Path(__file__).resolve().parents[1]
MOTO_PORT = int(os.environ.get("LAKEFORGE_MOTO_PORT", "25500"))
TEMPLATE = ROOT / "infra/model-deployment.yml"


def moto_running() -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{MOTO_PORT}/moto-api/", timeout=2)
        return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def aws_emulator():
    """moto on 127.0.0.1 (scripts/services/moto.sh), started if it is not running (and then stopped
    again), emptied first; the standard AWS variables point boto3 at it with dummy credentials."""
    started = not moto_running()
    if started:
        subprocess.run(["bash", str(ROOT / "scripts/services/moto.sh"), "up"], check=True, env={**os.environ, "LAKEFORGE_MOTO_PORT": str(MOTO_PORT)})
    # The stack's names are fixed per stage: resources left by an earlier session would collide.
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{MOTO_PORT}/moto-api/reset", method="POST"), timeout=10)
    saved = {key: os.environ.get(key) for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION")}
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{MOTO_PORT}", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="eu-west-1", AWS_REGION="eu-west-1")
    yield f"http://127.0.0.1:{MOTO_PORT}"
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    if started:
        subprocess.run(["bash", str(ROOT / "scripts/services/moto.sh"), "down"], check=True, env={**os.environ, "LAKEFORGE_MOTO_PORT": str(MOTO_PORT)})


@pytest.fixture(scope="session")
def aws_stack(aws_emulator) -> dict:
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
    outputs["SecurityGroup"] = ec2.create_security_group(GroupName=f"tasks-{suffix}", Description="tasks", VpcId=vpc)["GroupId"]
    yield {"status": described["StackStatus"], **outputs}
    cloudformation.delete_stack(StackName=name)


def aws_spec(stack: dict, model_name: str, online: bool) -> AwsSpec:
    """The stack's resources for `model_name`: an ECS service of the serving image (online) or a
    scoring task of the jobs image on a schedule."""
    kind = {"service": model_name} if online else {"schedule": ScheduleSpec(rule=model_name, role_arn=stack["ScheduleRoleArn"], command=["spark-submit", "jobs/score_churn.py"])}
    image = stack["ServingRepositoryUri"] if online else stack["JobsRepositoryUri"]
    return AwsSpec(bucket=stack["ModelBucketName"], prefix="models", ecs=EcsSpec(
        cluster=stack["ClusterName"], family=model_name, image=f"{image}:test",
        execution_role_arn=stack["TaskExecutionRoleArn"], task_role_arn=stack["ServingTaskRoleArn"],
        subnets=[stack["Subnet"]], security_groups=[stack["SecurityGroup"]],
        wait_minutes=0,  # the emulator starts no tasks, so a service never reports them running
        **kind,
    ))


def running_model_uri(stack: dict, spec: AwsSpec) -> tuple[str, dict[str, str]]:
    """(task definition ARN, its container's environment) of what runs the model, read with boto3."""
    ecs = boto3.client("ecs")
    if spec.ecs.service:
        task_definition = ecs.describe_services(cluster=stack["ClusterName"], services=[spec.ecs.service])["services"][0]["taskDefinition"]
    else:
        targets = boto3.client("events").list_targets_by_rule(Rule=spec.ecs.schedule.rule)["Targets"]
        assert [target["Arn"].rsplit("/", 1)[-1] for target in targets] == [stack["ClusterName"]]
        task_definition = targets[0]["EcsParameters"]["TaskDefinitionArn"]
    container = ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]["containerDefinitions"][0]
    return task_definition, {variable["name"]: variable["value"] for variable in container["environment"]}
