"""Time-based split: the model is judged on interactions that happen after the ones it learned from."""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def time_cutoff(interactions: DataFrame, later_fraction: float) -> datetime:
    """The event time before which 1 - later_fraction of the interactions fall."""
    seconds = interactions.select(F.unix_micros("event_time").cast("double").alias("t"))
    (cut,) = seconds.approxQuantile("t", [1.0 - later_fraction], 0.0005)
    return interactions.sparkSession.range(1).select(F.timestamp_micros(F.lit(int(cut))).alias("cut")).first()["cut"]


def split_at(cutoff: datetime):
    """(before, from cutoff on): pure, so the same split is applied to any frame with event_time."""

    def split(interactions: DataFrame) -> tuple[DataFrame, DataFrame]:
        return interactions.where(F.col("event_time") < F.lit(cutoff)), interactions.where(F.col("event_time") >= F.lit(cutoff))

    return split
