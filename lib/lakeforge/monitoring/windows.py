"""Inference log rows placed in monitoring windows, with each profiled feature typed as in training."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakeforge.quality.profile import SCORE_FEATURE, TrainingProfile, category_value, numeric_value

GROUP = ["window_start", "window_end", "model_name", "model_version"]


def in_windows(window: str) -> Callable[[DataFrame], DataFrame]:
    """Add window_start / window_end: tumbling windows of `window` (a Spark interval) over scored_at."""

    def transform(log: DataFrame) -> DataFrame:
        placed = log.withColumn("__window", F.window("scored_at", window))
        return placed.select(F.col("__window.start").alias("window_start"), F.col("__window.end").alias("window_end"), "*").drop("__window")

    return transform


def typed_features(profile: TrainingProfile) -> Callable[[DataFrame], DataFrame]:
    """The group columns, each profiled feature from `inputs` (a double or a trimmed string) and the
    score as the numeric feature SCORE_FEATURE."""

    def transform(windowed: DataFrame) -> DataFrame:
        numeric = [numeric_value(F.col("inputs")[p.name]).alias(p.name) for p in profile.numeric]
        categorical = [category_value(F.col("inputs")[p.name]).alias(p.name) for p in profile.categorical]
        return windowed.select(*GROUP, "prediction", F.col("score").alias(SCORE_FEATURE), *numeric, *categorical)

    return transform
