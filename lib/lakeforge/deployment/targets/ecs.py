"""ECS tasks per model: one task definition revision per model version, so moving to a version (or
back) is one UpdateService (a rolling deployment) or one new target of the schedule's rule."""

from __future__ import annotations

from lakeforge.archives import MODEL_URI_ENV
from lakeforge.deployment.config import EcsSpec

MODEL_VERSION_ENV = "LAKEFORGE_MODEL_VERSION"
SCANNED_REVISIONS = 50  # the newest revisions searched for a version's task definition


def container_definition(spec: EcsSpec, version: str, model_data_url: str) -> dict:
    container = {
        "name": "serving" if spec.service else "scoring",
        "image": spec.image,
        "essential": True,
        "environment": [{"name": MODEL_URI_ENV, "value": model_data_url}, {"name": MODEL_VERSION_ENV, "value": version}],
    }
    if spec.schedule:
        return {**container, "command": spec.schedule.command}
    return {
        **container,
        "portMappings": [{"containerPort": spec.container_port}],
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


TASK_TARGET_ID = "lakeforge-task"  # the rule's one target


def point_schedule(events, ecs, spec: EcsSpec, task_definition: str) -> None:
    """Create or update the rule and make its one target start this task definition."""
    schedule = spec.schedule
    cluster_arn = ecs.describe_clusters(clusters=[spec.cluster])["clusters"][0]["clusterArn"]
    events.put_rule(Name=schedule.rule, ScheduleExpression=schedule.expression, State="ENABLED",
                    Description=f"lakeforge: {' '.join(schedule.command)} with the deployed {spec.family}")
    events.put_targets(Rule=schedule.rule, Targets=[{
        "Id": TASK_TARGET_ID, "Arn": cluster_arn, "RoleArn": schedule.role_arn,
        "EcsParameters": {
            "TaskDefinitionArn": task_definition, "TaskCount": 1, "LaunchType": "FARGATE",
            "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": spec.subnets, "SecurityGroups": spec.security_groups, "AssignPublicIp": "DISABLED"}},
        },
    }])


def scheduled_task_definition(events, spec: EcsSpec) -> str | None:
    """The task definition the schedule's rule starts, or None when there is no such rule or target."""
    try:
        targets = events.list_targets_by_rule(Rule=spec.schedule.rule)["Targets"]
    except events.exceptions.ResourceNotFoundException:
        return None
    return next((target["EcsParameters"]["TaskDefinitionArn"] for target in targets if target["Id"] == TASK_TARGET_ID), None)


def withdraw_schedule(events, spec: EcsSpec) -> None:
    if scheduled_task_definition(events, spec) is not None:
        events.remove_targets(Rule=spec.schedule.rule, Ids=[TASK_TARGET_ID])
    try:
        events.delete_rule(Name=spec.schedule.rule)
    except events.exceptions.ResourceNotFoundException:
        pass
