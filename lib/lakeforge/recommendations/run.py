"""Train, log and register in one call (the CLI, the job and the notebook share it)."""

from __future__ import annotations

import json
from pathlib import Path

from pyspark.sql import SparkSession

from lakeforge.recommendations.config import RecsConfig
from lakeforge.recommendations.tracking import log_recommender
from lakeforge.recommendations.train import RecsResult, read_categories, read_interactions, train_recommender
from lakeforge.tracking import TrackedRun


def train_and_register(spark: SparkSession, config: RecsConfig, export: str | Path | None = None) -> tuple[RecsResult, TrackedRun]:
    """Train on silver interactions, register the model under the config's alias; `export` also writes
    the serving artifact to that folder."""
    result = train_recommender(spark, config, read_interactions(spark, config), read_categories(spark, config))
    if export is not None:
        result.model.save(export)
    return result, log_recommender(result)


def summary(result: RecsResult, tracked: TrackedRun) -> dict:
    return {
        "model": f"{tracked.model_name} v{tracked.model_version} @{tracked.alias}",
        "run_id": tracked.run_id,
        "params": result.params,
        "test": {name: round(value, 4) for name, value in result.test.items()},
        "popularity_baseline": {name: round(value, 4) for name, value in result.baseline.items()},
        "counts": result.counts,
        "seconds": {name: round(value, 1) for name, value in result.seconds.items()},
    }


def print_summary(result: RecsResult, tracked: TrackedRun) -> None:
    print(json.dumps(summary(result, tracked), indent=2))
