"""The deployment pipeline: validate the challenger, promote it, deploy it, smoke-test it, roll back on
failure; every decision lands in the deployment log with its reasons."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import SparkSession

from lakeforge.deployment.config import DeploymentConfig, ModelDeployment, RunMode
from lakeforge.deployment.evaluation import evaluate
from lakeforge.deployment.log import Decision, DeploymentLog, new_deployment_id
from lakeforge.deployment.ranking import evaluate_ranking
from lakeforge.deployment.registry import ModelRegistry, RollbackError
from lakeforge.deployment.report import log_validation
from lakeforge.deployment.targets import build_target
from lakeforge.deployment.targets.base import Target
from lakeforge.deployment.validation import validate
from lakeforge.errors import LakeforgeError
from lakeforge.tables.layout import Lakehouse
from lakeforge.tracking import use_tracking_uri

STATUS_TAG = "lakeforge.deployment"


@dataclass
class DeploymentRun:
    """One `deploy run` or `deploy rollback` of one model: its id, where it deploys, what it decided."""

    spark: SparkSession
    config: DeploymentConfig
    spec: ModelDeployment
    target: Target
    run_mode: RunMode
    log: DeploymentLog
    registry: ModelRegistry
    deployment_id: str = field(default_factory=new_deployment_id)
    decisions: list[Decision] = field(default_factory=list)

    def record(self, step: str, outcome: str, passed: bool, reasons: list[str], **versions) -> Decision:
        decision = Decision(deployment_id=self.deployment_id, model=self.spec.registered_model, step=step, outcome=outcome,
                            passed=passed, run_mode=self.run_mode, target=self.target.name, reasons=reasons, **versions)
        self.decisions.append(self.log.record(decision))
        return decision


def start(spark: SparkSession, config: DeploymentConfig, model: str, target: str | None = None,
          run_mode: RunMode | None = None, target_impl: Target | None = None) -> DeploymentRun:
    """A run for the model named in the config; target and run mode default to the config's."""
    spec = config.model(model)
    use_tracking_uri(config.platform)
    return DeploymentRun(
        spark=spark, config=config, spec=spec,
        target=target_impl or build_target(target or spec.target, spark, spec),
        run_mode=run_mode or spec.run_mode,
        log=DeploymentLog(spark, Lakehouse(config.platform.storage.root).system(config.log_table)),
        registry=ModelRegistry(spec.registered_model),
    )


def run_deployment(run: DeploymentRun) -> list[Decision]:
    """Validate -> promote -> deploy -> smoke test (-> roll back); an error is logged, then raised."""
    try:
        validate_and_promote(run)
    except Exception as error:
        run.record("run", "error", False, [f"{type(error).__name__}: {error}"])
        raise
    return run.decisions


def validate_and_promote(run: DeploymentRun) -> None:
    if run.run_mode == "disabled":
        run.record("run", "skipped", True, ["run_mode is disabled"])
        return
    aliases = run.registry.aliases()
    challenger, champion = aliases.challenger, aliases.champion
    if challenger is None:
        raise LakeforgeError(f"{run.spec.registered_model} has no 'challenger' version: train one first (lakeforge train)")
    versions = {"challenger_version": challenger, "champion_version": champion}
    if challenger == champion:
        run.record("run", "skipped", True, [f"version {challenger} is already the champion"], **versions)
        return
    spec = run.spec
    measure = evaluate_ranking if spec.task == "recommendation" else evaluate
    evaluation = measure(run.spark, spec.evaluation, run.config.platform.storage.root, spec.registered_model, challenger, champion)
    verdict = validate(evaluation.challenger, evaluation.champion, spec.gate, evaluation.profile)
    mlflow_run = log_validation(run.config.platform, spec.experiment, spec.registered_model, evaluation, verdict)
    summary = [f"{len(verdict.checks)} checks passed" + ("" if champion else " (first model: absolute thresholds only)")]
    run.record("validate", "passed" if verdict.passed else "refused", verdict.passed, verdict.reasons or summary,
               mlflow_run_id=mlflow_run, **versions)
    if run.run_mode == "dry_run":
        action = "would promote" if verdict.passed else "would refuse"
        run.record("promote", "skipped", True, [f"dry_run: {action} version {challenger} over champion {champion}; nothing changed"], **versions)
        return
    run.registry.tag(challenger, STATUS_TAG, "validated" if verdict.passed else "refused")
    if not verdict.passed:
        return
    replaced = run.registry.promote(challenger)
    moved = f"champion {replaced} -> {challenger}; {replaced} keeps 'previous'" if replaced else f"champion -> {challenger} (the first)"
    run.record("promote", "promoted", True, [moved], **versions)
    deploy_and_verify(run, challenger, replaced)


def deploy_and_verify(run: DeploymentRun, version: str, replaced: str | None) -> None:
    versions = {"challenger_version": version, "champion_version": replaced}
    try:
        details = run.target.deploy(version)
        failures = run.target.smoke_test(version, run.spec.smoke)
    except Exception as error:  # a deployment that cannot complete is rolled back like a failed smoke test
        details, failures = {}, [f"deploying version {version} to {run.target.name} failed: {type(error).__name__}: {error}"]
    if not failures:
        run.record("deploy", "deployed", True, [f"{key}={value}" for key, value in details.items()], **versions)
        run.registry.tag(version, STATUS_TAG, "deployed")
        return
    run.record("smoke_test", "failed", False, failures, **versions)
    roll_back(run, [f"version {version} failed its smoke test on {run.target.name}", *failures])


def roll_back(run: DeploymentRun, reasons: list[str], withdraw: bool = True) -> Decision:
    """champion -> previous, redeployed to the target and smoke-tested. With no previous, a failed first
    champion is withdrawn (`withdraw`), or the rollback is refused and logged as such."""
    try:
        restored, withdrawn = run.registry.roll_back()
    except RollbackError as nothing:
        if not withdraw:
            run.record("rollback", "refused", False, [*reasons, str(nothing)])
            raise
        withdrawn = run.registry.withdraw_champion()
        run.target.withdraw()
        return run.record("rollback", "withdrawn", False, [*reasons, str(nothing), f"version {withdrawn} no longer serves"],
                          challenger_version=withdrawn)
    if withdrawn is not None:
        run.registry.tag(withdrawn, STATUS_TAG, "rolled_back")
    run.target.deploy(restored)
    failures = run.target.smoke_test(restored, run.spec.smoke)
    return run.record("rollback", "rolled_back", not failures, [*reasons, f"champion {withdrawn} -> {restored}", *failures],
                      challenger_version=withdrawn, champion_version=restored)
