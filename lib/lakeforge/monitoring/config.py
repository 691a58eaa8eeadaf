"""Monitoring config (conf/monitoring.yml): the model watched, windows, freshness SLAs, alert rules,
the webhook, retraining and the dashboard."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from lakeforge.config.models import PlatformConfig, StrictModel

Monitor = Literal["drift", "prediction", "quality", "pipeline", "ctr"]


class ModelRef(StrictModel):
    registered_model: str
    alias: str = "champion"  # the version `monitor score` scores with
    task: Literal["classification", "regression"] = "classification"
    entity_key: str  # column identifying the entity a prediction is about; delayed labels join on it
    label: str  # the outcome column of labelled data (`monitor labels`); read like training's label
    positive_label: str | None = None  # as training's data.positive_label


class TableNames(StrictModel):
    """Delta tables under {storage.root}/_system/."""

    inferences: str = "inference_log"
    labels: str = "inference_labels"
    drift: str = "monitor_drift"
    prediction: str = "monitor_prediction"
    quality: str = "monitor_quality"
    ctr: str = "monitor_ctr"
    pipeline: str = "monitor_pipeline"
    alerts: str = "monitor_alerts"
    decisions: str = "monitor_decisions"
    audit: str = "audit"
    stream_progress: str = "stream_progress"


class FreshnessSla(StrictModel):
    """The latest successful audit row of (source, layer) must be younger than max_age_minutes."""

    source: str
    layer: str
    max_age_minutes: float = Field(gt=0)


class PipelineLimits(StrictModel):
    freshness: list[FreshnessSla] = Field(default_factory=list)
    max_quarantined_share: float = Field(default=0.05, ge=0, le=1)  # of a run's rows read, per source and layer
    max_batch_seconds: float = Field(default=30.0, gt=0)  # a streaming micro-batch
    max_stream_lag_seconds: float = Field(default=300.0, gt=0)  # since a query's latest batch
    recent_runs: int = Field(default=10, ge=1)


class AlertRule(StrictModel):
    """Raise `severity` when `metric` of a monitor's subject (a feature, a model version, a table) is past
    `threshold` in each of its latest `windows` windows; `where` keeps the monitor rows with those values."""

    name: str
    monitor: Monitor
    metric: str
    threshold: float
    direction: Literal["above", "below"] = "above"
    windows: int = Field(default=1, ge=1)
    severity: Literal["info", "warning", "critical"] = "warning"
    where: dict[str, str] = Field(default_factory=dict)
    retrain: bool = False  # a breach asks for a retrained challenger (which then faces the deployment gate)


class FeedbackSource(StrictModel):
    """The recommender's feedback (impressions and clicks with their A/B variant) for the ctr monitor."""

    silver_table: str = "interactions"  # under silver/: conf/recommendations.yml's tables.interactions
    confidence: float = Field(default=0.95, gt=0, lt=1)  # of each window's CTR interval


class WebhookSettings(StrictModel):
    url: str | None = None  # None or empty: alerts go to the table only
    token_env: str | None = None  # bearer token, read from this environment variable
    timeout_seconds: float = Field(default=5.0, gt=0)
    attempts: int = Field(default=3, ge=1)

    @field_validator("url")
    @classmethod
    def _empty_is_none(cls, url: str | None) -> str | None:
        return url or None  # `${LAKEFORGE_ALERT_WEBHOOK:-}` unset


class RetrainSettings(StrictModel):
    mode: Literal["disabled", "enabled"] = "disabled"
    training_config: str = "conf/churn.yml"
    deployment_config: str = "conf/deployment.yml"
    deployment_model: str = "churn"  # the model's name in the deployment config
    min_hours_between: float = Field(default=24.0, ge=0)  # one retraining per alert storm


class DashboardSettings(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    token_env: str = "LAKEFORGE_DASHBOARD_TOKEN"
    refresh_seconds: float = Field(default=2.0, gt=0)
    iot_windows: str = "iot_device_windows"  # gold tables of the IoT pipeline
    iot_alerts: str = "iot_alerts"
    rows: int = Field(default=200, ge=1)  # newest rows per chart


class MonitoringConfig(StrictModel):
    name: str
    platform: PlatformConfig
    model: ModelRef
    window: str = "1 day"  # Spark interval of a monitoring window
    tables: TableNames = Field(default_factory=TableNames)
    pipeline: PipelineLimits = Field(default_factory=PipelineLimits)
    rules: list[AlertRule] = Field(default_factory=list)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    retrain: RetrainSettings = Field(default_factory=RetrainSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    recommendations: FeedbackSource | None = None  # the ctr monitor; None: not computed

    @model_validator(mode="after")
    def _unique_rule_names(self) -> MonitoringConfig:
        names = [rule.name for rule in self.rules]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"rules: names must be unique, repeated {repeated}")
        return self
