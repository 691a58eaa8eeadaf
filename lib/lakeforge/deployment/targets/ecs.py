"""An ECS service per model: one task definition revision per model version, so moving to a version
(or back) is one UpdateService and ECS replaces the tasks with a rolling deployment."""

from __future__ import annotations

from lakeforge.deployment.config import EcsSpec

MODEL_URI_ENV, MODEL_VERSION_ENV = "LAKEFORGE_MODEL_URI", "LAKEFORGE_MODEL_VERSION"
CONTAINER = "serving"
SCANNED_REVISIONS = 50  # the newest revisions searched for a version's task definition


def container_definition(spec: EcsSpec, version: str, model_data_url: str) -> dict:
    return {
        "name": CONTAINER,
        "image": spec.image,
        "essential": True,
        "portMappings": [{"containerPort": spec.container_port}],
        "environment": [{"name": MODEL_URI_ENV, "value": model_data_url}, {"name": MODEL_VERSION_ENV, "value": version}],
        # The image's HEALTHCHECK, restated: ECS ignores Docker's.
        "healthCheck": {"command": ["CMD-SHELL", f"python -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{spec.container_port}/health')\""],
                        "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 60},
    }


def model_uri_of(task_definition: dict) -> str | None:
    for container in task_definition["containerDefinitions"]:
        for variable in container.get("environment", []):
            if variable["name"] == MODEL_URI_ENV:
                return variable["value"]
    return None


def revision(arn: str) -> int:
    return int(arn.rsplit(":", 1)[1])


def find_task_definition(ecs, spec: EcsSpec, model_data_url: str) -> str | None:
    """The newest active revision of the family that serves this artifact, if one was registered."""
    arns = ecs.list_task_definitions(familyPrefix=spec.family, status="ACTIVE")["taskDefinitionArns"]
    for arn in sorted(arns, key=revision, reverse=True)[:SCANNED_REVISIONS]:
        described = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        if described["family"] == spec.family and model_uri_of(described) == model_data_url:
            return arn
    return None


def ensure_task_definition(ecs, spec: EcsSpec, version: str, model_data_url: str) -> str:
    existing = find_task_definition(ecs, spec, model_data_url)
    if existing is not None:
        return existing
    return ecs.register_task_definition(
        family=spec.family,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu=spec.cpu,
        memory=spec.memory,
        executionRoleArn=spec.execution_role_arn,
        taskRoleArn=spec.task_role_arn,
        containerDefinitions=[container_definition(spec, version, model_data_url)],
        tags=[{"key": "lakeforge:model-version", "value": version}],
    )["taskDefinition"]["taskDefinitionArn"]


def describe_service(ecs, spec: EcsSpec) -> dict | None:
    services = ecs.describe_services(cluster=spec.cluster, services=[spec.service])["services"]
    active = [service for service in services if service["status"] == "ACTIVE"]
    return active[0] if active else None


def point_service(ecs, spec: EcsSpec, task_definition: str) -> None:
    """Create the service on the first deployment, update it afterwards; wait until it is stable."""
    service = describe_service(ecs, spec)
    if service is None:
        ecs.create_service(
            cluster=spec.cluster, serviceName=spec.service, taskDefinition=task_definition,
            desiredCount=spec.desired_count, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": spec.subnets, "securityGroups": spec.security_groups, "assignPublicIp": "DISABLED"}},
            # A deployment whose tasks never turn healthy is stopped and ECS goes back to the last good one.
            deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}, "minimumHealthyPercent": 100, "maximumPercent": 200},
        )
    elif service["taskDefinition"] != task_definition:
        ecs.update_service(cluster=spec.cluster, service=spec.service, taskDefinition=task_definition)
    if spec.wait_minutes:
        attempts = max(1, int(spec.wait_minutes * 60 / 15))
        ecs.get_waiter("services_stable").wait(cluster=spec.cluster, services=[spec.service], WaiterConfig={"Delay": 15, "MaxAttempts": attempts})


def withdraw_service(ecs, spec: EcsSpec) -> None:
    if describe_service(ecs, spec) is not None:
        ecs.update_service(cluster=spec.cluster, service=spec.service, desiredCount=0)
        ecs.delete_service(cluster=spec.cluster, service=spec.service)
