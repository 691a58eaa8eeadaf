"""Click-through rate per A/B variant and window from the recommender's feedback in silver, with a
Wilson score interval computed in Spark, so the monitor scales with the feedback and alert rules can
watch an arm's CTR over time (`lakeforge report ab` gives the same figures over all time)."""

from __future__ import annotations

from collections.abc import Callable
from statistics import NormalDist

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakeforge.recommendations.ab_report import feedback_counts


def wilson_interval(clicks: Column, impressions: Column, confidence: float) -> tuple[Column, Column]:
    """The Wilson score interval of clicks / impressions; null where there is no binomial proportion
    (no impressions, or more clicks than impressions because impressions were not posted)."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    n, p = impressions.cast("double"), clicks / impressions
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * F.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    valid = (impressions > 0) & (clicks <= impressions)
    return F.when(valid, centre - half), F.when(valid, centre + half)


def ctr_by_variant(window: str, confidence: float) -> Callable[[DataFrame], DataFrame]:
    """Transform: silver interactions -> per tumbling window of event_time and variant: impressions,
    clicks, ctr and its interval."""

    def transform(interactions: DataFrame) -> DataFrame:
        counts = feedback_counts(interactions.withColumn("__window", F.window("event_time", window)), "__window")
        low, high = wilson_interval(F.col("clicks"), F.col("impressions"), confidence)
        return counts.select(
            F.col("__window.start").alias("window_start"), F.col("__window.end").alias("window_end"), "variant",
            "impressions", "clicks", F.when(F.col("impressions") > 0, F.col("clicks") / F.col("impressions")).alias("ctr"),
            low.alias("ctr_low"), high.alias("ctr_high"),
        )

    return transform
