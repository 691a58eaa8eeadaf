"""Ranking quality on a later period: Spark ML's RankingEvaluator over numpy top-K lists, RMSE for
ratings, and the same lists from item popularity as the baseline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyspark.ml.evaluation import RankingEvaluator, RegressionEvaluator
from pyspark.ml.recommendation import ALSModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DoubleType, StructField, StructType

from lakeforge.recommendations.artifact import FactorModel
from lakeforge.recommendations.scoring import top_k

RANKING_METRICS = {"precision": "precisionAtK", "recall": "recallAtK", "ndcg": "ndcgAtK", "map": "meanAveragePrecisionAtK"}
RANKING_SCHEMA = StructType([StructField("prediction", ArrayType(DoubleType())), StructField("label", ArrayType(DoubleType()))])


def ranking_metrics(spark: SparkSession, predicted: Mapping[int, Sequence[int]], relevant: Mapping[int, Sequence[int]], k: int) -> dict[str, float]:
    """precision@k, recall@k, ndcg@k and map@k over the users in `relevant` (a user without
    predictions counts as an empty list)."""
    rows = [([float(i) for i in predicted.get(user, [])], [float(i) for i in items]) for user, items in relevant.items()]
    frame = spark.createDataFrame(rows, RANKING_SCHEMA)
    return {
        f"{name}_at_{k}": RankingEvaluator(metricName=metric, k=k, predictionCol="prediction", labelCol="label").evaluate(frame)
        for name, metric in RANKING_METRICS.items()
    }


def relevant_items(test_pairs: DataFrame, model: FactorModel, threshold: float) -> dict[int, list[int]]:
    """Per user the model knows: items in the later period with rating >= threshold it had not seen."""
    rows = test_pairs.where(F.col("rating") >= threshold).select("user_id", "item_id").toPandas()
    relevant: dict[int, list[int]] = {}
    for user, items in rows.groupby("user_id")["item_id"]:
        row = model.user_rows.get(int(user))
        if row is None:
            continue
        seen = set(model.item_ids[model.history(row)[0]].tolist())
        fresh = [int(item) for item in items if int(item) not in seen]
        if fresh:
            relevant[int(user)] = fresh
    return relevant


def top_lists(model: FactorModel, users: Sequence[int], k: int, by_popularity: bool) -> dict[int, list[int]]:
    """Each user's top-k unseen items from the factors, or from popularity (the baseline)."""
    lists = {}
    for user in users:
        row = model.user_rows[user]
        scores = model.popularity if by_popularity else model.item_factors @ model.user_factors[row]
        best, _ = top_k(scores, model.history(row)[0], k)
        lists[user] = model.item_ids[best].tolist()
    return lists


def rmse(model: ALSModel, test_pairs: DataFrame) -> float:
    predictions = model.transform(test_pairs)  # coldStartStrategy=drop: pairs of unknown users/items are left out
    return RegressionEvaluator(metricName="rmse", labelCol="rating", predictionCol="prediction").evaluate(predictions)

