"""Model quality per window once labels arrive: ROC-AUC, precision, recall, F1 (classification) or
RMSE and MAE (regression), with scikit-learn's definitions, computed in Spark."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lakeforge.monitoring.windows import GROUP


def latest_labels(labels: DataFrame) -> DataFrame:
    """One label per entity: the most recently observed (a corrected outcome replaces the first)."""
    return labels.groupBy("entity_id").agg(F.max_by("label", "observed_at").alias("label"), F.max("observed_at").alias("observed_at"))


def with_labels(windowed: DataFrame, labels: DataFrame) -> DataFrame:
    """The log rows whose entity has a label, joined to it by entity_id."""
    return windowed.join(latest_labels(labels), "entity_id")


def roc_auc(labelled: DataFrame) -> DataFrame:
    """Per group: P(score of a positive > score of a negative), ties counted half (Mann-Whitney U)."""
    by_score = labelled.groupBy(*GROUP, "score").agg(F.sum("label").alias("pos"), F.sum(1 - F.col("label")).alias("neg"))
    below = Window.partitionBy(*GROUP).orderBy("score").rowsBetween(Window.unboundedPreceding, -1)
    ranked = by_score.withColumn("neg_below", F.coalesce(F.sum("neg").over(below), F.lit(0.0)))
    wins = F.sum(F.col("pos") * (F.col("neg_below") + F.col("neg") / 2))
    pairs = F.sum("pos") * F.sum("neg")
    return ranked.groupBy(*GROUP).agg(F.when(pairs > 0, wins / pairs).alias("roc_auc"))


def classification_quality(labelled: DataFrame) -> DataFrame:
    tp = F.sum(F.col("label") * F.col("prediction"))
    predicted, actual = F.sum("prediction"), F.sum("label")
    counts = labelled.groupBy(*GROUP).agg(F.count(F.lit(1)).alias("labelled"), tp.alias("tp"), predicted.alias("predicted"), actual.alias("positives"))
    precision = F.when(F.col("predicted") > 0, F.col("tp") / F.col("predicted")).otherwise(0.0)
    recall = F.when(F.col("positives") > 0, F.col("tp") / F.col("positives")).otherwise(0.0)
    f1 = F.when(F.col("precision") + F.col("recall") > 0, 2 * F.col("precision") * F.col("recall") / (F.col("precision") + F.col("recall"))).otherwise(0.0)
    metrics = counts.withColumn("precision", precision).withColumn("recall", recall).withColumn("f1", f1)
    return metrics.join(roc_auc(labelled), GROUP, "left").select(*GROUP, "labelled", "positives", "precision", "recall", "f1", "roc_auc")


def regression_quality(labelled: DataFrame) -> DataFrame:
    error = F.col("prediction") - F.col("label")
    return labelled.groupBy(*GROUP).agg(
        F.count(F.lit(1)).alias("labelled"), F.sqrt(F.avg(error * error)).alias("rmse"), F.avg(F.abs(error)).alias("mae")
    )


def quality(windowed: DataFrame, labels: DataFrame, task: str) -> DataFrame:
    labelled = with_labels(windowed, labels).withColumn("label", F.col("label").cast("double"))
    return classification_quality(labelled) if task == "classification" else regression_quality(labelled)
