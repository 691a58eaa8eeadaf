"""AWS target: the version's artifacts to S3, an ECS task definition revision serving them, the ECS
service updated to it. boto3 finds region, credentials and (for an emulator) AWS_ENDPOINT_URL in the
usual environment variables and profiles."""

from __future__ import annotations

import tempfile
from pathlib import Path

import boto3
from pyspark.sql import SparkSession

from lakeforge.deployment.config import AwsSpec, SmokeCase
from lakeforge.deployment.evaluation import load_model_folder
from lakeforge.deployment.smoke import smoke_failures
from lakeforge.deployment.targets.artifacts import artifact_for, download_model, upload_model
from lakeforge.deployment.targets.ecs import describe_service, ensure_task_definition, model_uri_of, point_service, withdraw_service


class AwsTarget:
    name = "aws"

    def __init__(self, spark: SparkSession, model_name: str, spec: AwsSpec, session: boto3.Session | None = None):
        session = session or boto3.Session()
        self.spark, self.model_name, self.spec = spark, model_name, spec
        self.s3, self.ecs = session.client("s3"), session.client("ecs")

    def deploy(self, version: str) -> dict[str, str]:
        artifact = artifact_for(self.spec.bucket, self.spec.prefix, self.model_name, version)
        sha256 = upload_model(self.s3, artifact, self.model_name, version)
        task_definition = ensure_task_definition(self.ecs, self.spec.ecs, version, artifact.url)
        point_service(self.ecs, self.spec.ecs, task_definition)
        return {"service": self.spec.ecs.service, "task_definition": task_definition, "model_uri": artifact.url, "sha256": sha256}

    def smoke_test(self, version: str, cases: list[SmokeCase]) -> list[str]:
        """The service runs a task definition serving this version's artifact, and that artifact, fetched
        back from S3, scores the cases right."""
        artifact = artifact_for(self.spec.bucket, self.spec.prefix, self.model_name, version)
        service = describe_service(self.ecs, self.spec.ecs)
        if service is None:
            return [f"ECS service {self.spec.ecs.service} in cluster {self.spec.ecs.cluster} is not active"]
        serving = model_uri_of(self.ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"])
        if serving != artifact.url:
            return [f"ECS service {self.spec.ecs.service} runs {service['taskDefinition']} serving {serving}, expected {artifact.url}"]
        with tempfile.TemporaryDirectory() as folder:
            try:
                path = download_model(self.s3, artifact, Path(folder))
            except ValueError as mismatch:
                return [str(mismatch)]
            return smoke_failures(self.spark, load_model_folder(version, path), cases)

    def withdraw(self) -> None:
        withdraw_service(self.ecs, self.spec.ecs)
