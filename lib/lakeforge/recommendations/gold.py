"""Silver interactions -> gold statistics: popularity per item and per category in event-time windows,
and per-user activity. Each table is recomputed for the keys a batch touched, then upserted, so a
replayed batch changes nothing."""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.recommendations.als import event_strength
from lakeforge.recommendations.tables import RecsTables
from lakeforge.tables import delta


def with_window(window: str):
    def transform(interactions: DataFrame) -> DataFrame:
        bounds = F.window("event_time", window)
        return interactions.withColumns({"window_start": bounds.start, "window_end": bounds.end})

    return transform


def popularity(keys: list[str], weights: Mapping[str, float]):
    """Per key and window: interactions, distinct users and summed implicit strength."""

    def transform(windowed: DataFrame) -> DataFrame:
        return windowed.groupBy(*keys, "window_start", "window_end").agg(
            F.count(F.lit(1)).alias("interactions"),
            F.count_distinct("user_id").alias("users"),
            F.sum(event_strength(weights)).alias("strength"),
        )

    return transform


def user_stats(with_categories: DataFrame) -> DataFrame:
    """Per user: interactions, distinct items, last event time and favourite category (most interactions)."""
    return with_categories.groupBy("user_id").agg(
        F.count(F.lit(1)).alias("interactions"),
        F.count_distinct("item_id").alias("items"),
        F.max("event_time").alias("last_event_time"),
        F.mode("category").alias("favourite_category"),
    )


def with_categories(interactions: DataFrame, items: DataFrame | None) -> DataFrame:
    if items is None:
        return interactions.withColumn("category", F.lit("(unknown)"))
    return interactions.join(items.select("item_id", "category"), "item_id", "left").withColumn("category", F.coalesce("category", F.lit("(unknown)")))


def refresh_gold(spark: SparkSession, tables: RecsTables, batch: DataFrame, window: str, weights: Mapping[str, float]) -> None:
    """Recompute gold from silver for the windows and users the batch's valid rows touch (a replayed
    batch refreshes the same keys again, which changes nothing)."""
    silver = spark.read.format("delta").load(tables.silver)
    items = spark.read.format("delta").load(tables.items) if delta.exists(spark, tables.items) else None
    windows = batch.transform(with_window(window)).select("window_start").distinct()
    touched = with_categories(silver.transform(with_window(window)).join(F.broadcast(windows), "window_start"), items)
    delta.merge_upsert(spark, touched.transform(popularity(["item_id", "category"], weights)), tables.item_popularity, ["item_id", "window_start"], latest_by=None)
    delta.merge_upsert(spark, touched.transform(popularity(["category"], weights)), tables.category_popularity, ["category", "window_start"], latest_by=None)
    users = batch.select("user_id").distinct()
    active = with_categories(silver.join(F.broadcast(users), "user_id"), items)
    delta.merge_upsert(spark, user_stats(active), tables.user_stats, ["user_id"], latest_by=None)
