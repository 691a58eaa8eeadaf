"""What monitoring does about a breach: retrain a challenger and send it through the deployment gate
(the gate, not monitoring, decides whether it is promoted). Every decision is logged with its reasons."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType, StructField, StructType, TimestampType

from lakeforge.config import load_config
from lakeforge.deployment.config import DeploymentConfig
from lakeforge.deployment.pipeline import run_deployment, start
from lakeforge.monitoring.config import RetrainSettings
from lakeforge.tables import delta
from lakeforge.tables.inference import read_table
from lakeforge.training.config import TrainingConfig
from lakeforge.training.run import train_and_track

DECISION_SCHEMA = StructType([
    StructField("decision_id", StringType(), False),
    StructField("decided_at", TimestampType(), False),
    StructField("action", StringType(), False),  # retrain
    StructField("outcome", StringType(), False),  # skipped | retrained | failed
    StructField("alert_ids", ArrayType(StringType()), False),
    StructField("reasons", ArrayType(StringType()), False),
    StructField("challenger_version", StringType(), True),
    StructField("gate", ArrayType(StringType()), False),  # the deployment pipeline's decisions: step=outcome
])


@dataclass(frozen=True)
class MaintenanceDecision:
    decided_at: datetime
    outcome: str
    alert_ids: list[str]
    reasons: list[str]
    challenger_version: str | None = None
    gate: list[str] = field(default_factory=list)
    action: str = "retrain"
    decision_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])


def last_retraining(spark: SparkSession, path: str) -> datetime | None:
    decisions = read_table(spark, path, DECISION_SCHEMA).where(F.col("outcome") == "retrained")
    return decisions.agg(F.max("decided_at")).first()[0]


def retrain_and_gate(spark: SparkSession, settings: RetrainSettings, env: str | None) -> tuple[str, list[str]]:
    """Train a challenger with the training config, then run the deployment pipeline on it."""
    training = load_config(settings.training_config, TrainingConfig, env=env)
    _, tracked = train_and_track(spark, training)
    deployment = load_config(settings.deployment_config, DeploymentConfig, env=env)
    decisions = run_deployment(start(spark, deployment, settings.deployment_model))
    return tracked.model_version, [f"{d.step}={d.outcome}" + (f" ({'; '.join(d.reasons)})" if d.reasons else "") for d in decisions]


def maintain(spark: SparkSession, settings: RetrainSettings, alerts: list[dict], decisions_path: str, now: datetime,
             env: str | None = None) -> MaintenanceDecision | None:
    """Decide on retraining for the alerts just raised; None when no alert asks for it."""
    asking = [alert for alert in alerts if alert["retrain"]]
    if not asking:
        return None
    ids, reasons = [a["alert_id"] for a in asking], [a["message"] for a in asking]
    last = last_retraining(spark, decisions_path)
    if settings.mode == "disabled":
        decision = MaintenanceDecision(now, "skipped", ids, [*reasons, "retrain.mode is disabled"])
    elif last is not None and now - last < timedelta(hours=settings.min_hours_between):
        decision = MaintenanceDecision(now, "skipped", ids, [*reasons, f"retrained at {last}, less than {settings.min_hours_between:g} h ago"])
    else:
        try:
            version, gate = retrain_and_gate(spark, settings, env)
            decision = MaintenanceDecision(now, "retrained", ids, reasons, challenger_version=version, gate=gate)
        except Exception as error:  # logged, then raised: a failed retraining must not pass silently
            record(spark, MaintenanceDecision(now, "failed", ids, [*reasons, f"{type(error).__name__}: {error}"]), decisions_path)
            raise
    return record(spark, decision, decisions_path)


def record(spark: SparkSession, decision: MaintenanceDecision, path: str) -> MaintenanceDecision:
    delta.append(spark.createDataFrame([asdict(decision)], DECISION_SCHEMA), path)
    return decision
