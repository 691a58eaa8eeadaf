"""conf/deployment.yml loads, and the mistakes the schema exists for are refused with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lakeforge.config.loader import ConfigError, load_config, load_model
from lakeforge.deployment.config import DeploymentConfig

ROOT = Path(__file__).resolve().parents[2]


def churn_document() -> dict:
    document = yaml.safe_load((ROOT / "conf/deployment.yml").read_text())
    document["platform"] = {"storage": {"root": "/tmp/lake", "landing": "/tmp/landing"}}
    return document


def test_the_committed_config_loads_with_the_local_overlay():
    config = load_config(ROOT / "conf/deployment.yml", DeploymentConfig, env="local")
    churn = config.model("churn")
    assert (churn.registered_model, churn.run_mode, churn.target) == ("lakeforge_churn", "dry_run", "local")
    assert churn.gate.metrics["roc_auc"].max_drop == 0.005 and churn.gate.metrics["f1"].max_drop == 0.0
    assert churn.aws is not None and churn.aws.ecs.subnets and len(churn.smoke) == 2


def test_enabled_without_a_smoke_case_is_refused():
    document = churn_document()
    document["models"]["churn"].update(run_mode="enabled", smoke=[])
    with pytest.raises(ConfigError, match="run_mode enabled needs at least one smoke case"):
        load_model(DeploymentConfig, document, origin="test")


def test_aws_target_without_its_section_and_unknown_keys_are_refused():
    document = churn_document()
    document["models"]["churn"].update(target="aws", aws=None)
    with pytest.raises(ConfigError, match="target aws needs an aws section"):
        load_model(DeploymentConfig, document, origin="test")
    document = churn_document()
    document["models"]["churn"]["gate"]["metrics"]["roc_auc"]["max_dorp"] = 0.01
    with pytest.raises(ConfigError, match="max_dorp"):
        load_model(DeploymentConfig, document, origin="test")


def test_unknown_model_names_the_configured_ones():
    config = load_model(DeploymentConfig, churn_document(), origin="test")
    with pytest.raises(Exception, match=r"model 'images' is not in the deployment config; configured: \['churn', 'recs'\]"):
        config.model("images")


def test_the_recommender_entry_loads_as_a_ranking_deployment():
    recs = load_config(ROOT / "conf/deployment.yml", DeploymentConfig, env="local").model("recs")
    assert (recs.task, recs.target, recs.evaluation.interactions_table, recs.evaluation.k) == ("recommendation", "local", "interactions", 10)
    assert recs.gate.metrics["ndcg_at_10_over_popularity"].min == 0.0
    assert [(case.user_id, case.k) for case in recs.smoke] == [(1, 10)]
    assert recs.service is not None and recs.service.api_key_env == "LAKEFORGE_RECS_API_KEY"


@pytest.mark.parametrize(("section", "value", "message"), [
    ("evaluation", {"data": {"path": "/tmp/x.csv", "label": "y"}}, r"task recommendation needs .* in \['evaluation'\]"),
    ("smoke", [{"name": "row", "row": {"a": 1}, "prediction": 1.0}], r"task recommendation needs .* in \['smoke'\]"),
])
def test_a_recommender_with_classification_sections_is_refused(section, value, message):
    document = churn_document()
    document["models"]["recs"][section] = value
    with pytest.raises(ConfigError, match=message):
        load_model(DeploymentConfig, document, origin="test")


def test_on_aws_the_recommender_is_a_service_and_batch_scoring_a_schedule():
    document = churn_document()
    churn, recs = document["models"]["churn"], document["models"]["recs"]
    assert churn["aws"]["ecs"]["schedule"] and recs["aws"]["ecs"]["service"]
    swapped = {**document, "models": {"churn": {**churn, "aws": recs["aws"]}, "recs": {**recs, "aws": churn["aws"]}}}
    with pytest.raises(ConfigError, match=r"lakeforge_churn: on aws the recommender runs as an ECS service .* a classification model as a scheduled scoring task"):
        load_model(DeploymentConfig, swapped, origin="test")
    both = {**recs["aws"]["ecs"], "schedule": churn["aws"]["ecs"]["schedule"]}
    neither = {key: value for key, value in recs["aws"]["ecs"].items() if key != "service"}
    for ecs in (both, neither):
        recs["aws"]["ecs"] = ecs
        with pytest.raises(ConfigError, match="set exactly one of service .* and schedule"):
            load_model(DeploymentConfig, document, origin="test")
