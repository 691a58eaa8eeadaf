"""The A/B report: click-through rate per variant from the feedback that landed in silver
interactions, with a Wilson score interval (scipy), so a difference between arms can be read
against its uncertainty."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from scipy.stats import binomtest

from lakeforge.recommendations.tables import RecsTables


@dataclass(frozen=True)
class VariantCtr:
    variant: str
    impressions: int
    clicks: int
    ctr: float | None  # None without impressions
    low: float | None  # the interval; None without impressions or with more clicks than impressions
    high: float | None


def feedback_counts(interactions: DataFrame, *by: str) -> DataFrame:
    """Per variant (and `by` columns): impressions and clicks (only feedback carries a variant)."""
    feedback = interactions.where(F.col("variant").isNotNull())
    return feedback.groupBy(*by, "variant").agg(
        F.count(F.when(F.col("event_type") == "impression", 1)).alias("impressions"),
        F.count(F.when(F.col("event_type") == "click", 1)).alias("clicks"),
    )


def variant_ctr(variant: str, impressions: int, clicks: int, confidence: float) -> VariantCtr:
    if impressions == 0:
        return VariantCtr(variant, 0, clicks, None, None, None)
    if clicks > impressions:  # impressions not posted, or lost upstream: no binomial interval exists
        return VariantCtr(variant, impressions, clicks, clicks / impressions, None, None)
    interval = binomtest(clicks, impressions).proportion_ci(confidence_level=confidence, method="wilson")
    return VariantCtr(variant, impressions, clicks, clicks / impressions, interval.low, interval.high)


def ab_report(spark: SparkSession, tables: RecsTables, confidence: float = 0.95) -> list[VariantCtr]:
    rows = feedback_counts(spark.read.format("delta").load(tables.silver)).orderBy("variant").collect()
    return [variant_ctr(row["variant"], row["impressions"], row["clicks"], confidence) for row in rows]
