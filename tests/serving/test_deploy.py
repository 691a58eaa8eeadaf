"""The recommender through the deployment pipeline against the running service: a better challenger is
promoted and served, a worse one is refused on the ranking gate, a failed smoke test rolls the service
back. The world's aliases are restored after the module (the service and registry are shared)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
from aws_stack import aws_spec, running_model_uri
from mlflow import MlflowClient

from lakeforge.config.loader import load_config
from lakeforge.deployment.config import DeploymentConfig, RecommendationSmokeCase, ServiceSpec
from lakeforge.deployment.pipeline import run_deployment, start
from lakeforge.deployment.registry import ModelRegistry
from lakeforge.recommendations.recommend import recommend
from lakeforge.recommendations.tracking import log_recommender
from lakeforge.recommendations.train import read_categories, read_interactions, train_recommender
from lakeforge.serving.ab import variant_for
from lakeforge.serving.registry import ModelSlots, archived_artifact
from recommendations.world import API_KEY

ROOT = Path(__file__).resolve().parents[2]
ALIASES = ("champion", "challenger", "previous")


@pytest.fixture(scope="module")
def versions(spark, world, service) -> tuple[str, str]:
    """(weak, good): a version fitted with one factor, heavily regularised and one sweep, and the
    world's factors as a version of their own. The world's aliases are put back (and reloaded by the
    service) after the module."""
    name = world.config.tracking.registered_model
    saved = {alias: ModelRegistry(name).version_of(alias) for alias in ALIASES}
    config = world.config.model_copy(update={"als": world.config.als.model_copy(update={"max_iter": 1, "grid": {"rank": [1], "regParam": [5.0], "alpha": [0.1]}})})
    weak = log_recommender(train_recommender(spark, config, read_interactions(spark, config), read_categories(spark, config))).model_version
    good = log_recommender(world.result).model_version
    yield weak, good
    set_aliases(ModelRegistry(name), **saved)
    httpx.post(f"{service}/models/reload", headers={"X-API-Key": API_KEY}, timeout=30).raise_for_status()


def set_aliases(registry: ModelRegistry, **versions: str | None) -> None:
    for alias, version in versions.items():
        if version is not None:
            registry.client.set_registered_model_alias(registry.model_name, alias, version)
        elif registry.version_of(alias) is not None:
            registry.client.delete_registered_model_alias(registry.model_name, alias)


@pytest.fixture
def registry(world, monkeypatch) -> ModelRegistry:
    monkeypatch.setenv(world.config.serving.api_key_env, API_KEY)  # the deployment reloads the service with it
    return ModelRegistry(world.config.tracking.registered_model)


@pytest.fixture
def smoke_users(world) -> list[int]:
    counts = world.interactions()["user_id"].value_counts()
    return [int(counts.index[0]), int(counts.index[1])]  # test_api posts events for index[3]


def deploy(spark, world, service, smoke_users, **overrides):
    """conf/deployment.yml's recs entry, enabled, on the world's lakehouse, registry and service."""
    document = load_config(ROOT / "conf/deployment.yml", DeploymentConfig, env="local").model("recs")
    spec = document.model_copy(update={**overrides,
        "registered_model": world.config.tracking.registered_model, "run_mode": "enabled", "experiment": "recs-deployment-tests",
        "evaluation": document.evaluation.model_copy(update={"interactions_table": world.config.tables.interactions}),
        "gate": document.gate.model_copy(update={"data": document.gate.data.model_copy(update={"min_rows": 500})}),
        "smoke": [RecommendationSmokeCase(name=f"user {user}", user_id=user, k=10) for user in smoke_users],
        "service": ServiceSpec(url=service, api_key_env=world.config.serving.api_key_env, wait_seconds=20),
    })
    config = DeploymentConfig(platform=world.config.platform, models={"recs": spec})
    run = start(spark, config, "recs")
    return run_deployment(run), run


def steps(decisions) -> list[tuple[str, str]]:
    return [(d.step, d.outcome) for d in decisions]


def served_version(service: str, user: int) -> str:
    return httpx.get(f"{service}/recommendations/{user}", headers={"X-API-Key": API_KEY}, timeout=10).json()["model_version"]


def settled_versions(service: str, users: list[int], expected: str, seconds: float = 20) -> set[str]:
    """The versions the users get, asked several times each (so every worker answers), once they are all
    `expected` or after `seconds`: the worker that took the deployment's reload serves the new version at
    once, the others from their next registry poll."""
    deadline = time.monotonic() + seconds
    while True:
        versions = {served_version(service, user) for user in users for _ in range(6)}
        if versions == {expected} or time.monotonic() > deadline:
            return versions
        time.sleep(0.2)


def test_better_recommender_is_promoted_and_served(spark, service, world, registry, versions, smoke_users):
    weak_version, good_version = versions
    set_aliases(registry, champion=weak_version, challenger=good_version, previous=None)

    decisions, run = deploy(spark, world, service, smoke_users)
    assert steps(decisions) == [("validate", "passed"), ("promote", "promoted"), ("deploy", "deployed")]
    aliases = registry.aliases()
    assert (aliases.champion, aliases.previous) == (good_version, weak_version)
    expected = recommend(world.result.model, smoke_users[0], 10).item_ids
    assert settled_versions(service, [smoke_users[0]], good_version) == {good_version}
    answer = httpx.get(f"{service}/recommendations/{smoke_users[0]}", headers={"X-API-Key": API_KEY}, timeout=10).json()
    assert (answer["model_version"], [item["item_id"] for item in answer["items"]]) == (good_version, expected)
    report = run.log.read(registry.model_name).where(f"deployment_id = '{run.deployment_id}' AND step = 'validate'").first()
    metrics = MlflowClient().get_run(report.mlflow_run_id).data.metrics
    assert metrics["challenger_ndcg_at_10"] > metrics["champion_ndcg_at_10"]
    assert metrics["challenger_ndcg_at_10_over_popularity"] >= 0


def test_worse_recommender_is_refused_on_the_ranking_gate(spark, service, world, registry, versions, smoke_users):
    weak_version, good_version = versions
    set_aliases(registry, champion=good_version, challenger=weak_version, previous=None)

    decisions, _ = deploy(spark, world, service, smoke_users)
    assert steps(decisions) == [("validate", "refused")]
    assert any(reason.startswith("metric.ndcg_at_10.max_drop: ") for reason in decisions[0].reasons), decisions[0].reasons
    assert registry.aliases().champion == good_version
    assert served_version(service, smoke_users[0]) == good_version


def test_a_failed_smoke_test_rolls_the_service_back(spark, service, world, registry, versions, smoke_users):
    """The smoke user's live event makes the service fold it in, so its answer is not the artifact's:
    the smoke test fails, and the service is put back on the previous champion."""
    weak_version, good_version = versions
    set_aliases(registry, champion=weak_version, challenger=good_version, previous=None)
    live_user = int(world.interactions()["user_id"].value_counts().index[5])
    event = {"event_id": f"d-{uuid.uuid4().hex}", "user_id": live_user, "item_id": int(world.result.model.item_ids[0]), "event_type": "purchase"}
    assert httpx.post(f"{service}/events", json=event, headers={"X-API-Key": API_KEY}, timeout=10).json() == {"accepted": 1}

    decisions, _ = deploy(spark, world, service, [smoke_users[0], live_user])
    assert steps(decisions)[:4] == [("validate", "passed"), ("promote", "promoted"), ("smoke_test", "failed"), ("rollback", "rolled_back")]
    assert [reason.split(":")[0] for reason in decisions[2].reasons] == [f"smoke case 'user {live_user}'"]
    assert f"champion {good_version} -> {weak_version}" in decisions[3].reasons
    aliases = registry.aliases()
    assert (aliases.champion, aliases.challenger, aliases.previous) == (weak_version, None, None)
    assert settled_versions(service, smoke_users, weak_version) == {weak_version}
    serving = world.config.serving
    challenger_arm = next(user for user in range(1, 10**4) if variant_for(user, serving.ab_salt, serving.challenger_share) == "challenger")
    assert settled_versions(service, [challenger_arm], weak_version) == {weak_version}  # the rolled-back version left the A/B arm too


def test_on_aws_the_recommender_runs_as_an_ecs_service_serving_its_s3_archive(spark, service, world, registry, versions, smoke_users, aws_stack):
    """The ECS service's task gets the version's archive in LAKEFORGE_MODEL_URI; the API, given it as
    serving.artifact_uri, serves that version's own ranking (the emulator runs no containers, so the
    archive is loaded here as the container loads it)."""
    weak_version, good_version = versions
    set_aliases(registry, champion=weak_version, challenger=good_version, previous=None)
    spec = aws_spec(aws_stack, registry.model_name, online=True)

    decisions, _ = deploy(spark, world, service, smoke_users, target="aws", aws=spec)
    assert steps(decisions) == [("validate", "passed"), ("promote", "promoted"), ("deploy", "deployed")]
    _, environment = running_model_uri(aws_stack, spec)
    assert environment["LAKEFORGE_MODEL_URI"] == f"s3://{aws_stack['ModelBucketName']}/models/{registry.model_name}/{good_version}/model.tar.gz"

    slots = ModelSlots()
    archived_artifact(slots, environment["LAKEFORGE_MODEL_URI"])
    served = slots.for_variant("champion")
    assert slots.versions() == {"champion": good_version}
    assert [recommend(served.model, user, 10).item_ids for user in smoke_users] == [recommend(world.result.model, user, 10).item_ids for user in smoke_users]
