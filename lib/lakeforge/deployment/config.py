"""Deployment config (conf/deployment.yml): per model, the gate a challenger must pass, how it is run,
where it goes and how the deployed model is smoke-tested."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from lakeforge.config.models import PlatformConfig, StrictModel
from lakeforge.errors import LakeforgeError
from lakeforge.training.config import DataSpec

RunMode = Literal["disabled", "dry_run", "enabled"]


class MetricGate(StrictModel):
    """Bounds on one evaluation metric: absolute (min / max) and against the champion (max_drop / max_rise).

    `max_drop: 0.005` on roc_auc: the challenger may score at most 0.005 below the champion; `max_drop: 0`
    on f1: it must not score lower at all. The first model (no champion) is held to min / max only.
    """

    min: float | None = None
    max: float | None = None
    max_drop: float | None = Field(default=None, ge=0)
    max_rise: float | None = Field(default=None, ge=0)


class DataGate(StrictModel):
    """Checks on the evaluation set itself: a gate on too few or broken rows would prove nothing."""

    min_rows: int = Field(default=100, ge=1)
    max_null_fraction: float = Field(default=0.05, ge=0, le=1)  # per feature column
    min_class_fraction: float = Field(default=0.02, ge=0, le=0.5)  # classification: each class's share


class LimitGate(StrictModel):
    max_model_mb: float | None = Field(default=None, gt=0)  # the logged model's artifacts
    max_scoring_seconds: float | None = Field(default=None, gt=0)  # scoring the whole evaluation set


class Gate(StrictModel):
    metrics: dict[str, MetricGate] = Field(default_factory=dict)
    data: DataGate = Field(default_factory=DataGate)
    limits: LimitGate = Field(default_factory=LimitGate)


class Holdout(StrictModel):
    """The rows training held out: the same stratified split (fraction, seed) of the same data."""

    test_fraction: float = Field(gt=0, lt=1)
    seed: int


class EvaluationSpec(StrictModel):
    data: DataSpec
    holdout: Holdout | None = None  # None: every row of data is evaluation data


class RankingEvaluationSpec(StrictModel):
    """The recommender's held-out data: the latest test_fraction of the silver interactions by event time.

    A served recommender was refitted on every interaction, so each version is judged by refitting its
    own settings (rank, regularisation, event weights, from its artifact) on the interactions before the
    cutoff and ranking the later ones: both versions on the same split."""

    interactions_table: str = "interactions"  # under silver/
    test_fraction: float = Field(default=0.2, gt=0, lt=1)
    k: int = Field(default=10, ge=1)
    relevant_rating: float = 4.0  # explicit-feedback versions: a later rating at least this is relevant


class SmokeCase(StrictModel):
    """One input row and the prediction the deployed model must return for it."""

    name: str
    row: dict[str, Any]
    prediction: float


class RecommendationSmokeCase(StrictModel):
    """A user the deployed recommender must answer for with the version's own top-k (as the artifact
    ranks it offline). Use an account that takes no live traffic: the service folds a user's new
    events into their answer."""

    name: str
    user_id: int = Field(ge=0)
    k: int = Field(default=10, ge=1)


class ServiceSpec(StrictModel):
    """The running recommendations API (`lakeforge serve`), which follows the registered model's aliases."""

    url: str = "http://127.0.0.1:8765"
    api_key_env: str = "LAKEFORGE_RECS_API_KEY"
    # How long the smoke test waits for the service to answer from the new version (it reloads at once
    # on the worker that takes POST /models/reload, the others within their registry poll).
    wait_seconds: float = Field(default=30, gt=0)


class ScheduleSpec(StrictModel):
    """An EventBridge rule that starts the model's task on a schedule: batch scoring."""

    rule: str  # the rule's name
    expression: str = "cron(0 3 * * ? *)"  # EventBridge schedule expression: cron(...) or rate(...)
    role_arn: str  # the role EventBridge starts the task as (ecs:RunTask on the family, iam:PassRole)
    command: list[str] = Field(default_factory=lambda: ["lakeforge", "score", "churn"], min_length=1)


class EcsSpec(StrictModel):
    """ECS (Fargate) tasks running a model version: each version is a task definition revision whose
    container gets the version's S3 archive in LAKEFORGE_MODEL_URI. An online model runs as a service
    (`service`: the serving image), a batch-scoring model as a task started on a `schedule` (the Spark
    jobs image); exactly one of the two."""

    cluster: str
    family: str  # task definition family
    image: str  # in ECR: docker/serving.Dockerfile's for a service, docker/spark-jobs.Dockerfile's for a schedule
    execution_role_arn: str  # pulls the image, writes logs
    task_role_arn: str  # reads the model artifacts
    subnets: list[str] = Field(min_length=1)
    security_groups: list[str] = Field(default_factory=list)
    cpu: str = "512"
    memory: str = "1024"
    service: str | None = None  # the ECS service's name
    container_port: int = 8000
    desired_count: int = Field(default=1, ge=1)
    # How long to wait for the service to be stable (tasks running, health checks passing); 0: do not wait.
    wait_minutes: float = Field(default=10, ge=0)
    schedule: ScheduleSpec | None = None

    @model_validator(mode="after")
    def _service_or_schedule(self) -> EcsSpec:
        if (self.service is None) == (self.schedule is None):
            raise ValueError(f"ecs family {self.family}: set exactly one of service (online serving) and schedule (batch scoring)")
        return self


class AwsSpec(StrictModel):
    """Region and credentials come from the usual AWS variables and profiles, never from here."""

    bucket: str
    prefix: str = "models"
    ecs: EcsSpec


class ScoringSpec(StrictModel):
    """Batch scoring (`lakeforge score`): the data to score and the Delta table the predictions go to."""

    data: DataSpec
    output_table: str  # under gold/
    key: str  # the id column carried into the predictions
    inference_log: str | None = "inference_log"  # under _system/, what monitoring reads (null: not logged)


class ModelDeployment(StrictModel):
    registered_model: str
    task: Literal["classification", "recommendation"] = "classification"
    run_mode: RunMode = "dry_run"
    target: str = "local"  # a name in lakeforge.deployment.targets.TARGETS: local, aws
    experiment: str = "lakeforge-deployment"  # where validation reports are logged
    evaluation: EvaluationSpec | RankingEvaluationSpec
    gate: Gate = Field(default_factory=Gate)
    smoke: list[SmokeCase] | list[RecommendationSmokeCase] = Field(default_factory=list)
    aws: AwsSpec | None = None
    scoring: ScoringSpec | None = None
    service: ServiceSpec | None = None  # recommendation: the API the local target reloads and smoke-tests

    @model_validator(mode="after")
    def _sections_fit_the_task(self) -> ModelDeployment:
        ranking = self.task == "recommendation"
        wrong = ["evaluation"] if isinstance(self.evaluation, RankingEvaluationSpec) != ranking else []
        wrong += ["smoke"] if any(isinstance(case, RecommendationSmokeCase) != ranking for case in self.smoke) else []
        if wrong:
            expected = "interactions_table / user_id cases" if ranking else "data / row-and-prediction cases"
            raise ValueError(f"{self.registered_model}: task {self.task} needs {expected} in {wrong}")
        if ranking and self.scoring is not None:
            raise ValueError(f"{self.registered_model}: batch scoring (scoring) is for classification models")
        if self.target == "aws" and self.aws is None:
            raise ValueError(f"{self.registered_model}: target aws needs an aws section (bucket, ecs)")
        if self.aws is not None and (self.aws.ecs.service is not None) != ranking:
            raise ValueError(f"{self.registered_model}: on aws the recommender runs as an ECS service (aws.ecs.service) and a "
                             f"{self.task} model as a scheduled scoring task (aws.ecs.schedule)")
        if self.run_mode == "enabled" and not self.smoke:
            raise ValueError(f"{self.registered_model}: run_mode enabled needs at least one smoke case")
        return self


class DeploymentConfig(StrictModel):
    platform: PlatformConfig
    log_table: str = "deployments"  # the Delta deployment log, under _system/
    models: dict[str, ModelDeployment]

    def model(self, name: str) -> ModelDeployment:
        if name not in self.models:
            raise LakeforgeError(f"model {name!r} is not in the deployment config; configured: {sorted(self.models)}")
        return self.models[name]
