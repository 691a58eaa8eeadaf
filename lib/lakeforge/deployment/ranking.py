"""Measure registered recommender versions on one time split of the silver interactions.

The served factors were refitted on every interaction, the held-out period included, so a version's
artifact cannot be ranked against that period directly. Each version is judged the way training judged
it: its own settings (from the artifact's metadata) fitted on the interactions before the cutoff, its
top-K ranked against the later ones, beside item popularity. Size and serving time are the artifact's.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from lakeforge.deployment.config import RankingEvaluationSpec
from lakeforge.deployment.evaluation import Evaluation, folder_mb
from lakeforge.deployment.validation import DataProfile, ModelEvaluation
from lakeforge.recommendations.artifact import FactorModel, find_artifact
from lakeforge.recommendations.config import AlsSpec
from lakeforge.recommendations.recommend import recommend
from lakeforge.recommendations.split import split_at, time_cutoff
from lakeforge.recommendations.train import score_split
from lakeforge.tables import delta
from lakeforge.tables.layout import Lakehouse

INTERACTION_COLUMNS = ("user_id", "item_id", "event_type", "value", "event_time")


@dataclass(frozen=True)
class RecommenderVersion:
    version: str
    model: FactorModel
    size_mb: float


def load_recommender(model_name: str, version: str, folder: Path) -> RecommenderVersion:
    path = mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{model_name}/{version}", dst_path=str(folder / version))
    artifact = find_artifact(path)
    return RecommenderVersion(version, FactorModel.load(artifact), folder_mb(artifact))


def als_settings(metadata: dict) -> tuple[AlsSpec, dict[str, float]]:
    """The ALS settings a version was fitted with (max_iter and seed default for artifacts that predate them)."""
    defaults = AlsSpec()
    spec = AlsSpec(mode=metadata["mode"], event_weights=metadata["event_weights"],
                   max_iter=metadata.get("max_iter", defaults.max_iter), seed=metadata.get("seed", defaults.seed))
    return spec, {"rank": metadata["rank"], "regParam": metadata["reg_param"], "alpha": metadata["alpha"]}


def serving_seconds(model: FactorModel, k: int) -> float:
    """Seconds to rank top-k for every user of the artifact with the service's own function."""
    started = time.perf_counter()
    for user in model.user_ids.tolist():
        recommend(model, user, k)
    return time.perf_counter() - started


def measure(spark: SparkSession, spec: RankingEvaluationSpec, train: DataFrame, later: DataFrame, loaded: RecommenderVersion) -> ModelEvaluation:
    als, params = als_settings(loaded.model.metadata)
    _, metrics, baseline, _, _ = score_split(spark, als, spec.k, spec.relevant_rating, train, later, params)
    ndcg = f"ndcg_at_{spec.k}"
    metrics = {**metrics, f"{ndcg}_over_popularity": metrics[ndcg] - baseline[ndcg]}
    return ModelEvaluation(version=loaded.version, metrics={name: float(np.round(value, 6)) for name, value in metrics.items()},
                           size_mb=loaded.size_mb, scoring_seconds=serving_seconds(loaded.model, spec.k))


def evaluate_ranking(spark: SparkSession, spec: RankingEvaluationSpec, lakehouse_root: str, model_name: str, challenger: str, champion: str | None) -> Evaluation:
    """Both versions on the same split of the same cached interactions."""
    path = Lakehouse(lakehouse_root).silver(spec.interactions_table)
    if not delta.exists(spark, path):
        raise FileNotFoundError(f"no silver interactions at {path}: the recommender is evaluated on them")
    interactions = spark.read.format("delta").load(path).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        missing = tuple(column for column in INTERACTION_COLUMNS if column not in interactions.columns)
        with tempfile.TemporaryDirectory() as folder:
            new = load_recommender(model_name, challenger, Path(folder))
            old = load_recommender(model_name, champion, Path(folder)) if champion else None
            if missing or interactions.isEmpty():  # nothing to split: the data checks say why
                profile = DataProfile(rows=0, null_fractions={}, missing_columns=missing)
                return Evaluation(ModelEvaluation(challenger, {}, new.size_mb, 0.0), None, profile)
            train, later = split_at(time_cutoff(interactions, spec.test_fraction))(interactions)
            profile = DataProfile(rows=later.count(), null_fractions={})
            return Evaluation(measure(spark, spec, train, later, new), measure(spark, spec, train, later, old) if old else None, profile)
    finally:
        interactions.unpersist()
