"""Deployment targets by name; a new kind of target (e.g. the recommender's online service) is one more
entry in TARGETS."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import SparkSession

from lakeforge.deployment.config import ModelDeployment
from lakeforge.deployment.targets.base import Target
from lakeforge.errors import LakeforgeError


def local_target(spark: SparkSession, spec: ModelDeployment) -> Target:
    from lakeforge.deployment.targets.local import LocalTarget

    return LocalTarget(spark, spec.registered_model)


def aws_target(spark: SparkSession, spec: ModelDeployment) -> Target:
    from lakeforge.deployment.targets.aws import AwsTarget  # boto3 only when AWS is the target

    if spec.aws is None:
        raise LakeforgeError(f"{spec.registered_model}: target aws needs an aws section in the deployment config (bucket, ecs service)")
    return AwsTarget(spark, spec.registered_model, spec.aws)


TARGETS: dict[str, Callable[[SparkSession, ModelDeployment], Target]] = {"local": local_target, "aws": aws_target}


def build_target(name: str, spark: SparkSession, spec: ModelDeployment) -> Target:
    if name not in TARGETS:
        raise LakeforgeError(f"unknown deployment target {name!r}; known targets: {sorted(TARGETS)}")
    return TARGETS[name](spark, spec)
