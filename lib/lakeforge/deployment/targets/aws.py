"""AWS target: the version's archive to S3, an ECS task definition revision running it, and the ECS
service (the recommender) or the EventBridge schedule (batch scoring) moved to that revision. boto3
finds region, credentials and (for an emulator) AWS_ENDPOINT_URL in the usual environment variables
and profiles."""

from __future__ import annotations

import tempfile
from pathlib import Path

import boto3
from pyspark.sql import SparkSession

from lakeforge.archives import FetchedModel, fetch_model
from lakeforge.deployment.config import AwsSpec, RecommendationSmokeCase, SmokeCase
from lakeforge.deployment.evaluation import load_model_folder
from lakeforge.deployment.smoke import NO_USER_CASES, smoke_failures
from lakeforge.deployment.targets.artifacts import artifact_for, upload_model
from lakeforge.deployment.targets.ecs import (
    describe_service, ensure_task_definition, model_uri_of, point_schedule, point_service, scheduled_task_definition, withdraw_schedule,
    withdraw_service,
)
from lakeforge.recommendations.artifact import FactorModel, find_artifact
from lakeforge.recommendations.recommend import recommend
from lakeforge.serving.registry import download_model


class AwsTarget:
    name = "aws"

    def __init__(self, spark: SparkSession, model_name: str, spec: AwsSpec, session: boto3.Session | None = None):
        session = session or boto3.Session()
        self.spark, self.model_name, self.spec = spark, model_name, spec
        self.s3, self.ecs, self.events = session.client("s3"), session.client("ecs"), session.client("events")

    def deploy(self, version: str) -> dict[str, str]:
        artifact = artifact_for(self.spec.bucket, self.spec.prefix, self.model_name, version)
        sha256 = upload_model(self.s3, artifact, self.model_name, version)
        ecs = self.spec.ecs
        task_definition = ensure_task_definition(self.ecs, ecs, version, artifact.url)
        if ecs.service:
            point_service(self.ecs, ecs, task_definition)
            where = {"service": ecs.service}
        else:
            point_schedule(self.events, self.ecs, ecs, task_definition)
            where = {"schedule": f"{ecs.schedule.rule} {ecs.schedule.expression}"}
        return {**where, "task_definition": task_definition, "model_uri": artifact.url, "sha256": sha256}

    def running_task_definition(self) -> tuple[str, str | None]:
        """(what runs the model, the task definition it runs: None when nothing does)."""
        ecs = self.spec.ecs
        if ecs.service:
            service = describe_service(self.ecs, ecs)
            return f"ECS service {ecs.service} in cluster {ecs.cluster}", service["taskDefinition"] if service else None
        return f"EventBridge rule {ecs.schedule.rule}", scheduled_task_definition(self.events, ecs)

    def smoke_test(self, version: str, cases: list[SmokeCase] | list[RecommendationSmokeCase]) -> list[str]:
        """What runs the model runs a task definition with this version's archive, and that archive,
        fetched back from S3 and checked against its SHA-256, answers the cases right."""
        artifact = artifact_for(self.spec.bucket, self.spec.prefix, self.model_name, version)
        runner, task_definition = self.running_task_definition()
        if task_definition is None:
            return [f"{runner} runs nothing"]
        serving = model_uri_of(self.ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"])
        if serving != artifact.url:
            return [f"{runner} runs {task_definition} with {serving}, expected {artifact.url}"]
        with tempfile.TemporaryDirectory() as folder:
            try:
                fetched = fetch_model(self.s3, artifact, Path(folder))
            except ValueError as mismatch:
                return [str(mismatch)]
            if self.spec.ecs.service:
                return self.ranking_failures(version, fetched, cases)
            return smoke_failures(self.spark, load_model_folder(version, fetched.folder), cases)

    def ranking_failures(self, version: str, fetched: FetchedModel, cases: list[RecommendationSmokeCase]) -> list[str]:
        """Each case's user gets from the archive the top-k the registered version ranks."""
        if not cases:
            return [NO_USER_CASES]
        archived, registered = FactorModel.load(find_artifact(str(fetched.folder))), download_model(self.model_name, version)
        failures = []
        for case in cases:
            got, expected = recommend(archived, case.user_id, case.k).item_ids, recommend(registered, case.user_id, case.k).item_ids
            if got != expected:
                failures.append(f"smoke case {case.name!r}: the S3 archive of version {version} ranks {got}, the registered version {expected}")
        return failures

    def withdraw(self) -> None:
        if self.spec.ecs.service:
            withdraw_service(self.ecs, self.spec.ecs)
        else:
            withdraw_schedule(self.events, self.spec.ecs)
