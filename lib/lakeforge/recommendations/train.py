"""Train the recommender: time-based split, grid search on a validation period, test metrics beside
the popularity baseline, then the served model refitted on every interaction."""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.recommendations.als import factor_model, fit_als, training_pairs
from lakeforge.recommendations.artifact import FactorModel
from lakeforge.recommendations.config import AlsSpec, RecsConfig
from lakeforge.recommendations.evaluate import ranking_metrics, relevant_items, rmse, top_lists
from lakeforge.recommendations.split import split_at, time_cutoff
from lakeforge.recommendations.tables import RecsTables
from lakeforge.tables import delta


@dataclass
class RecsResult:
    config: RecsConfig
    params: dict[str, float]  # the chosen grid point
    grid: list[dict[str, Any]]  # every grid point with its validation score
    test: dict[str, float]  # the chosen model on the test period
    baseline: dict[str, float]  # popularity on the test period
    counts: dict[str, int]
    model: FactorModel  # refitted on all interactions: what is served
    seconds: dict[str, float] = field(default_factory=dict)


def read_interactions(spark: SparkSession, config: RecsConfig) -> DataFrame:
    path = RecsTables.of(config).silver
    if not delta.exists(spark, path):
        raise FileNotFoundError(f"no silver interactions at {path}: run `lakeforge recs load` (or the stream job) first")
    return spark.read.format("delta").load(path)


def read_categories(spark: SparkSession, config: RecsConfig) -> dict[int, str]:
    path = RecsTables.of(config).items
    if not delta.exists(spark, path):
        return {}
    rows = spark.read.format("delta").load(path).select("item_id", "category").collect()
    return {row["item_id"]: row["category"] for row in rows}


def grid_points(config: RecsConfig) -> list[dict[str, float]]:
    grid = dict(config.als.grid)
    if config.als.mode == "explicit":
        grid.pop("alpha", None)  # confidence scaling means nothing for ratings
    names = sorted(grid)
    return [dict(zip(names, values)) for values in itertools.product(*(grid[name] for name in names))]


def relevance_threshold(spec: AlsSpec, relevant_rating: float) -> float:
    return relevant_rating if spec.mode == "explicit" else 1e-9  # implicit: any positive signal


def score_split(spark: SparkSession, spec: AlsSpec, k: int, relevant_rating: float, train: DataFrame, later: DataFrame, params: Mapping[str, float]):
    """Fit on `train`, judge top-K on `later`: (ALS model, ranking metrics, baseline, later pairs, users judged)."""
    pairs = train.transform(training_pairs(spec)).persist(StorageLevel.MEMORY_AND_DISK)
    fitted = fit_als(pairs, spec, params)
    model = factor_model(fitted, pairs, spec, params, categories={})
    later_pairs = later.transform(training_pairs(spec))
    relevant = relevant_items(later_pairs, model, relevance_threshold(spec, relevant_rating))
    metrics = ranking_metrics(spark, top_lists(model, list(relevant), k, by_popularity=False), relevant, k)
    baseline = ranking_metrics(spark, top_lists(model, list(relevant), k, by_popularity=True), relevant, k)
    pairs.unpersist()
    return fitted, metrics, baseline, later_pairs, len(relevant)


def tune(spark: SparkSession, config: RecsConfig, train: DataFrame) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """The grid point with the best NDCG@K on the latest validation_fraction of `train` (a grid of one
    point is taken as it is, without the validation fit)."""
    points = grid_points(config)
    if len(points) == 1:
        return points[0], []
    inner, validation = split_at(time_cutoff(train, config.evaluation.validation_fraction))(train)
    key = f"ndcg_at_{config.evaluation.k}"
    scored = []
    for params in points:
        _, metrics, _, _, _ = score_split(spark, config.als, config.evaluation.k, config.evaluation.relevant_rating, inner, validation, params)
        scored.append({**params, f"validation_{key}": metrics[key]})
    best = max(scored, key=lambda point: point[f"validation_{key}"])
    return {name: best[name] for name in points[0]}, scored


def train_recommender(spark: SparkSession, config: RecsConfig, interactions: DataFrame, categories: dict[int, str]) -> RecsResult:
    interactions = interactions.persist(StorageLevel.MEMORY_AND_DISK)
    started = time.perf_counter()
    cutoff = time_cutoff(interactions, config.evaluation.test_fraction)
    train, test = split_at(cutoff)(interactions)
    params, grid = tune(spark, config, train)
    tuned = time.perf_counter()
    evaluation = config.evaluation
    fitted, metrics, baseline, test_pairs, test_users = score_split(spark, config.als, evaluation.k, evaluation.relevant_rating, train, test, params)
    if config.als.mode == "explicit":
        metrics["rmse"] = rmse(fitted, test_pairs)
    evaluated = time.perf_counter()
    pairs = interactions.transform(training_pairs(config.als)).persist(StorageLevel.MEMORY_AND_DISK)
    served = fit_als(pairs, config.als, params)
    data_until = interactions.agg(F.max("event_time")).first()[0]
    model = factor_model(served, pairs, config.als, params, categories, extra={"cutoff": cutoff.isoformat(), "data_until": data_until.isoformat()})
    counts = {"interactions": interactions.count(), "pairs": pairs.count(), "train_rows": train.count(), "test_rows": test.count(), "test_users": test_users}
    pairs.unpersist()
    interactions.unpersist()
    seconds = {"tune": tuned - started, "evaluate": evaluated - tuned, "final_fit": time.perf_counter() - evaluated}
    return RecsResult(config=config, params=params, grid=grid, test=metrics, baseline=baseline, counts=counts, model=model, seconds=seconds)
