"""The drift monitors' tables: one row per (window, model version, feature), and one per (window,
model version) for the predictions."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakeforge.monitoring.drift import (
    KEYS,
    categorical_drift,
    category_counts,
    numeric_bucket_counts,
    numeric_drift,
    reference_buckets,
    reference_frequencies,
    reference_psi_shares,
)
from lakeforge.monitoring.windows import GROUP
from lakeforge.quality.profile import SCORE_FEATURE, FeatureProfile, TrainingProfile


def null_rates(features: DataFrame, names: list[str]) -> DataFrame:
    """Per (window, version, feature): rows in the window and the share of them without a value."""
    rates = features.groupBy(*GROUP).agg(
        F.count(F.lit(1)).alias("rows"), *[F.avg(F.col(f"`{n}`").isNull().cast("double")).alias(f"__n{i}") for i, n in enumerate(names)]
    )
    pairs = F.explode(F.array(*[F.struct(F.lit(n).alias("feature"), F.col(f"__n{i}").alias("null_rate")) for i, n in enumerate(names)]))
    return rates.select(*GROUP, "rows", pairs.alias("p")).select(*GROUP, "rows", "p.feature", "p.null_rate")


def numeric_stats(features: DataFrame, profiles: list[FeatureProfile]) -> DataFrame:
    spark = features.sparkSession
    counts = numeric_bucket_counts(features, profiles)
    return numeric_drift(counts, reference_buckets(spark, profiles), reference_psi_shares(spark, profiles))


def feature_drift(features: DataFrame, profile: TrainingProfile) -> DataFrame:
    """Null rate (and its change), PSI and KS for numbers, JS distance and unseen share for categories."""
    spark = features.sparkSession
    numeric = [p for p in profile.numeric if p.points]  # a feature null in all training rows has no CDF
    stats = []
    if numeric:
        stats.append(numeric_stats(features, numeric).select(*KEYS, "values", "psi", "ks", F.lit(None).cast("double").alias("js"),
                                                             F.lit(None).cast("double").alias("unseen_share")))
    if profile.categorical:
        drift = categorical_drift(category_counts(features, [p.name for p in profile.categorical]), reference_frequencies(spark, profile.categorical))
        stats.append(drift.select(*KEYS, "values", F.lit(None).cast("double").alias("psi"), F.lit(None).cast("double").alias("ks"), "js", "unseen_share"))
    reference = spark.createDataFrame([(p.name, p.kind, p.null_rate) for p in profile.features.values()], "feature string, kind string, null_rate_ref double")
    table = null_rates(features, list(profile.features)).join(F.broadcast(reference), "feature")
    for part in stats[1:]:
        stats[0] = stats[0].unionByName(part)
    if stats:
        table = table.join(stats[0], KEYS, "left")
    return table.withColumn("null_rate_change", F.col("null_rate") - F.col("null_rate_ref")).fillna(0, subset=["values"])


def prediction_drift(features: DataFrame, profile: TrainingProfile) -> DataFrame:
    """Per (window, version): rows, positive rate against training's (classification), score mean, PSI and KS."""
    summary = features.groupBy(*GROUP).agg(
        F.count(F.lit(1)).alias("rows"), F.avg("prediction").alias("positive_rate"), F.avg(SCORE_FEATURE).alias("score_mean")
    )
    positive_rate_ref = profile.positive_rate if profile.task == "classification" else None
    summary = summary.withColumn("positive_rate_ref", F.lit(positive_rate_ref).cast("double"))
    if profile.task != "classification":
        summary = summary.withColumn("positive_rate", F.lit(None).cast("double"))
    summary = summary.withColumn("positive_rate_change", F.col("positive_rate") - F.col("positive_rate_ref"))
    if profile.score is None or not profile.score.points:
        return summary.withColumn("score_psi", F.lit(None).cast("double")).withColumn("score_ks", F.lit(None).cast("double"))
    scores = numeric_stats(features, [profile.score]).select(*GROUP, F.col("psi").alias("score_psi"), F.col("ks").alias("score_ks"))
    return summary.join(scores, GROUP, "left")
