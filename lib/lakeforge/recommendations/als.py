"""Spark ML ALS on silver interactions: training pairs, the fit, and the factors as a FactorModel."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import numpy as np
from pyspark.ml.recommendation import ALS, ALSModel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakeforge.recommendations.artifact import FactorModel
from lakeforge.recommendations.config import AlsSpec


def event_strength(weights: Mapping[str, float]) -> Column:
    """Spark twin of recommend.strength: the type's weight, times the value for a rating."""
    weight = F.coalesce(F.create_map(*[F.lit(x) for pair in weights.items() for x in pair])[F.col("event_type")], F.lit(0.0))
    return F.when(F.col("event_type") == "rating", weight * F.col("value")).otherwise(weight)


def training_pairs(spec: AlsSpec):
    """One row per (user_id, item_id) with `rating`: summed positive strengths (implicit), or the
    latest rating (explicit)."""

    def transform(interactions: DataFrame) -> DataFrame:
        if spec.mode == "implicit":
            strengths = interactions.withColumn("strength", event_strength(spec.event_weights)).where(F.col("strength") > 0)
            return strengths.groupBy("user_id", "item_id").agg(F.sum("strength").cast("float").alias("rating"))
        ratings = interactions.where(F.col("event_type") == "rating")
        latest = F.max_by("value", F.struct("event_time", "event_id"))
        return ratings.groupBy("user_id", "item_id").agg(latest.cast("float").alias("rating"))

    return transform


def fit_als(pairs: DataFrame, spec: AlsSpec, params: Mapping[str, float]) -> ALSModel:
    als = ALS(
        userCol="user_id",
        itemCol="item_id",
        ratingCol="rating",
        implicitPrefs=spec.mode == "implicit",
        rank=int(params["rank"]),
        regParam=float(params["regParam"]),
        alpha=float(params.get("alpha", 1.0)),
        maxIter=spec.max_iter,
        seed=spec.seed,
        coldStartStrategy="drop",  # users or items unseen in training get no prediction (RMSE skips them)
    )
    return als.fit(pairs)


def factor_model(
    model: ALSModel,
    pairs: DataFrame,
    spec: AlsSpec,
    params: Mapping[str, float],
    categories: Mapping[int, str],
    extra: Mapping[str, Any] | None = None,
) -> FactorModel:
    """The fitted factors, popularity (users per item), categories and each user's history as numpy arrays."""
    items = model.itemFactors.orderBy("id").toPandas()
    users = model.userFactors.orderBy("id").toPandas()
    item_ids, user_ids = items["id"].to_numpy(np.int64), users["id"].to_numpy(np.int64)
    history = pairs.toPandas()
    item_row = {int(i): row for row, i in enumerate(item_ids)}
    user_row = {int(u): row for row, u in enumerate(user_ids)}
    history = history[history["item_id"].isin(item_row) & history["user_id"].isin(user_row)]
    rows = history["user_id"].map(user_row).to_numpy(np.int64)
    order = np.argsort(rows, kind="stable")
    popularity = np.bincount(history["item_id"].map(item_row).to_numpy(np.int64), minlength=len(item_ids)).astype(np.float32)
    return FactorModel(
        user_ids=user_ids,
        user_factors=np.stack(users["features"].to_numpy()).astype(np.float32),
        item_ids=item_ids,
        item_factors=np.stack(items["features"].to_numpy()).astype(np.float32),
        popularity=popularity,
        item_categories=np.array([categories.get(int(i), "") for i in item_ids], dtype=str),
        history_indptr=np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(user_ids)))]).astype(np.int64),
        history_items=history["item_id"].map(item_row).to_numpy(np.int64)[order],
        history_values=history["rating"].to_numpy(np.float32)[order],
        metadata={
            "mode": spec.mode,
            "rank": int(params["rank"]),
            "reg_param": float(params["regParam"]),
            "alpha": float(params.get("alpha", 1.0)),
            "event_weights": dict(spec.event_weights),
            "max_iter": spec.max_iter,
            "seed": spec.seed,
            "trained_at": datetime.now(timezone.utc).isoformat(),
            **(extra or {}),
        },
    )
