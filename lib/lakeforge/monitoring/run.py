"""`lakeforge monitor run`: compute every monitor over the inference log, the labels, the audit and
stream-progress tables and the recommender's feedback, upsert the monitor tables, raise alerts, post
them, decide on retraining."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import reduce

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.monitoring.alerts import ALERT_SCHEMA, breaches, new_alerts
from lakeforge.monitoring.baseline import load_profile
from lakeforge.monitoring.config import MonitoringConfig
from lakeforge.monitoring.ctr import ctr_by_variant
from lakeforge.monitoring.health import pipeline_health
from lakeforge.monitoring.maintenance import MaintenanceDecision, maintain
from lakeforge.monitoring.monitors import feature_drift, prediction_drift
from lakeforge.monitoring.paths import MonitorPaths
from lakeforge.monitoring.quality import quality
from lakeforge.monitoring.webhook import post_alerts
from lakeforge.monitoring.windows import in_windows, typed_features
from lakeforge.streaming.progress import PROGRESS_SCHEMA
from lakeforge.tables import delta
from lakeforge.tables.audit import AUDIT_SCHEMA
from lakeforge.tables.inference import INFERENCE_SCHEMA, LABELS_SCHEMA, read_table
from lakeforge.tracking import use_tracking_uri

@dataclass(frozen=True)
class MonitorRun:
    rows: dict[str, int]  # monitor -> rows written
    alerts: list[dict]
    posted: int
    decision: MaintenanceDecision | None


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def model_monitors(spark: SparkSession, config: MonitoringConfig, paths: MonitorPaths) -> dict[str, DataFrame]:
    """Drift, prediction drift (per version, each against its own training profile) and quality."""
    model = config.model
    log = read_table(spark, paths.inferences, INFERENCE_SCHEMA).where(F.col("model_name") == model.registered_model)
    windowed = log.transform(in_windows(config.window))
    versions = sorted(row[0] for row in log.select("model_version").distinct().collect())
    monitors: dict[str, list[DataFrame]] = {"drift": [], "prediction": []}
    for version in versions:
        profile = load_profile(model.registered_model, version)
        features = windowed.where(F.col("model_version") == version).transform(typed_features(profile))
        monitors["drift"].append(feature_drift(features, profile))
        monitors["prediction"].append(prediction_drift(features, profile))
    tables = {name: reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), parts) for name, parts in monitors.items() if parts}
    tables["quality"] = quality(windowed, read_table(spark, paths.labels, LABELS_SCHEMA), model.task)
    return tables


def write_monitors(spark: SparkSession, tables: dict[str, DataFrame], paths: MonitorPaths, now: datetime) -> dict[str, int]:
    """Model monitors are recomputed from the whole log each run, so they replace their tables; pipeline
    health is a point-in-time check, so its rows are appended (its history is the windows rules count)."""
    written = {}
    for name, table in tables.items():
        stamped = table.withColumn("computed_at", F.lit(now).cast("timestamp"))
        if name == "pipeline":
            delta.append(stamped, paths.pipeline)
        else:
            stamped.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(paths.monitor(name))
        written[name] = int(delta.last_operation_metrics(spark, paths.monitor(name)).get("numOutputRows", 0))
    return written


def find_alerts(spark: SparkSession, config: MonitoringConfig, paths: MonitorPaths, now: datetime) -> DataFrame | None:
    """Every rule over its monitor table: the alerts not raised before (materialised), or None."""
    found = [breaches(spark.read.format("delta").load(paths.monitor(rule.monitor)), rule)
             for rule in config.rules if delta.exists(spark, paths.monitor(rule.monitor))]
    if not found:
        return None
    candidates = reduce(DataFrame.unionByName, found).withColumn("raised_at", F.lit(now).cast("timestamp")).select(*ALERT_SCHEMA.fieldNames())
    return new_alerts(candidates, read_table(spark, paths.alerts, ALERT_SCHEMA)).localCheckpoint()


def run_monitors(spark: SparkSession, config: MonitoringConfig, now: datetime | None = None, env: str | None = None) -> MonitorRun:
    now = now or utcnow()
    use_tracking_uri(config.platform)
    paths = MonitorPaths.of(config)
    tables = model_monitors(spark, config, paths)
    audit, progress = read_table(spark, paths.audit, AUDIT_SCHEMA), read_table(spark, paths.stream_progress, PROGRESS_SCHEMA)
    tables["pipeline"] = pipeline_health(audit, progress, config.pipeline, now)
    if paths.feedback and delta.exists(spark, paths.feedback):  # no feedback landed yet: nothing to watch
        feedback = spark.read.format("delta").load(paths.feedback)
        tables["ctr"] = feedback.transform(ctr_by_variant(config.window, config.recommendations.confidence))
    rows = write_monitors(spark, tables, paths, now)
    fresh = find_alerts(spark, config, paths, now)
    alerts = [row.asDict() for row in fresh.collect()] if fresh is not None else []
    # Posted before they are stored: a failed POST fails the run and the next run raises them again.
    posted = post_alerts(alerts, config.webhook)
    if alerts:
        delta.append(fresh, paths.alerts)
    decision = maintain(spark, config.retrain, alerts, paths.decisions, now, env=env)
    return MonitorRun(rows=rows, alerts=alerts, posted=posted, decision=decision)
