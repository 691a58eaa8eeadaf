"""Deployment targets by name; a new kind of target is one more entry in TARGETS. `local` is where
each task's model serves here: the champion alias for batch scoring, the running API for the recommender."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import SparkSession

from lakeforge.deployment.config import ModelDeployment, ServiceSpec
from lakeforge.deployment.targets.base import Target
from lakeforge.errors import LakeforgeError


def local_target(spark: SparkSession, spec: ModelDeployment) -> Target:
    if spec.task == "recommendation":
        from lakeforge.deployment.targets.service import ServiceTarget

        return ServiceTarget(spec.registered_model, spec.service or ServiceSpec())
    from lakeforge.deployment.targets.local import LocalTarget

    return LocalTarget(spark, spec.registered_model)


def aws_target(spark: SparkSession, spec: ModelDeployment) -> Target:
    from lakeforge.deployment.targets.aws import AwsTarget  # boto3 only when AWS is the target

    if spec.aws is None:
        raise LakeforgeError(f"{spec.registered_model}: target aws needs an aws section in the deployment config (bucket, ecs)")
    return AwsTarget(spark, spec.registered_model, spec.aws)


TARGETS: dict[str, Callable[[SparkSession, ModelDeployment], Target]] = {"local": local_target, "aws": aws_target}


def build_target(name: str, spark: SparkSession, spec: ModelDeployment) -> Target:
    if name not in TARGETS:
        raise LakeforgeError(f"unknown deployment target {name!r}; known targets: {sorted(TARGETS)}")
    return TARGETS[name](spark, spec)
