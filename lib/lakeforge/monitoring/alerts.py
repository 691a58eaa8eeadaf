"""Alert rules over the monitor tables: a subject (a feature, a model version, a table) whose metric is
past the threshold in each of its latest `windows` windows raises one alert per rule, subject and window."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, DoubleType, IntegerType, StringType, StructField, StructType, TimestampType

from lakeforge.errors import LakeforgeError
from lakeforge.monitoring.config import AlertRule

# Per monitor: the columns naming a subject, and the column ordering its windows.
SUBJECTS = {
    "drift": ["model_name", "model_version", "feature"],
    "prediction": ["model_name", "model_version"],
    "quality": ["model_name", "model_version"],
    "pipeline": ["check", "subject"],
    "ctr": ["variant"],
}
TIME = {"drift": "window_start", "prediction": "window_start", "quality": "window_start", "pipeline": "observed_at", "ctr": "window_start"}

ALERT_SCHEMA = StructType([
    StructField("alert_id", StringType(), False),
    StructField("raised_at", TimestampType(), False),
    StructField("rule", StringType(), False),
    StructField("severity", StringType(), False),
    StructField("monitor", StringType(), False),
    StructField("subject", StringType(), False),
    StructField("metric", StringType(), False),
    StructField("value", DoubleType(), True),
    StructField("threshold", DoubleType(), False),
    StructField("windows", IntegerType(), False),
    StructField("observed_at", TimestampType(), False),  # the latest window in breach
    StructField("retrain", BooleanType(), False),
    StructField("message", StringType(), False),
])


def subject_text(columns: list[str]) -> Column:
    return F.concat_ws(", ", *[F.concat(F.lit(f"{c}="), F.col(c).cast("string")) for c in columns])


def breaches(table: DataFrame, rule: AlertRule) -> DataFrame:
    """Alerts (ALERT_SCHEMA, without raised_at) of one rule over one monitor table."""
    if rule.metric not in table.columns:
        raise LakeforgeError(f"rule {rule.name!r}: monitor {rule.monitor!r} has no metric {rule.metric!r}; its columns are {table.columns}")
    subject, time = SUBJECTS[rule.monitor], TIME[rule.monitor]
    rows = table.where(F.col(rule.metric).isNotNull())
    for column, value in rule.where.items():
        rows = rows.where(F.col(column).cast("string") == value)
    latest = Window.partitionBy(*subject).orderBy(F.desc(time))
    recent = rows.withColumn("__rank", F.row_number().over(latest)).where(F.col("__rank") <= rule.windows)
    past = F.col(rule.metric) > rule.threshold if rule.direction == "above" else F.col(rule.metric) < rule.threshold
    per_subject = recent.groupBy(*subject).agg(
        F.count(F.lit(1)).alias("n"), F.count_if(past).alias("breached"),
        F.max_by(F.col(rule.metric), F.col(time)).alias("value"), F.max(time).alias("observed_at"),
    )
    fired = per_subject.where((F.col("n") == rule.windows) & (F.col("breached") == rule.windows)).withColumn("subject", subject_text(subject))
    message = F.format_string(f"{rule.name}: {rule.metric} %s {rule.direction} {rule.threshold:g} for {rule.windows} window(s) ({rule.monitor}: %s)",
                              F.format_number("value", 4), F.col("subject"))
    return fired.select(
        F.sha2(F.concat_ws("|", F.lit(rule.name), "subject", F.col("observed_at").cast("string")), 256).substr(1, 16).alias("alert_id"),
        F.lit(rule.name).alias("rule"), F.lit(rule.severity).alias("severity"), F.lit(rule.monitor).alias("monitor"), "subject",
        F.lit(rule.metric).alias("metric"), F.col("value").cast("double").alias("value"), F.lit(float(rule.threshold)).alias("threshold"),
        F.lit(rule.windows).alias("windows"), "observed_at", F.lit(rule.retrain).alias("retrain"), message.alias("message"),
    )


def new_alerts(candidates: DataFrame, existing: DataFrame) -> DataFrame:
    """Alerts not raised before: a window in breach is reported once however often the monitors run."""
    return candidates.join(existing.select("alert_id"), "alert_id", "left_anti")
