"""Seeded splits and folds: exact per-class proportions for classification, shuffled for regression.

Rows are ordered by a hash of their content and the seed, not by rand(), so the same data and seed
give the same split however Spark partitions it.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lakeforge.training.columns import LABEL

FOLD = "__fold"
WEIGHT = "__weight"


def shuffle_key(frame: DataFrame, seed: int) -> Column:
    return F.xxhash64(*[F.col(f"`{c}`") for c in frame.columns], F.lit(seed))


def position_in_group(frame: DataFrame, seed: int, stratified: bool) -> DataFrame:
    """Adds __pos (0-based rank in the shuffled order) and __group_rows, per class when stratified."""
    # Unstratified, the ranking is one global window (a single partition): fine for the millions of
    # rows a driver-side metric collection handles anyway.
    window = Window.partitionBy(LABEL) if stratified else Window.partitionBy()
    ordered = window.orderBy(shuffle_key(frame, seed))
    return frame.withColumn("__pos", F.row_number().over(ordered) - 1).withColumn("__group_rows", F.count("*").over(window))


def split_train_test(frame: DataFrame, test_fraction: float, seed: int, stratified: bool) -> tuple[DataFrame, DataFrame]:
    """Test gets round(n_class * test_fraction) rows of each class (of all rows, for regression)."""
    positioned = position_in_group(frame, seed, stratified)
    is_test = F.col("__pos") < F.round(F.col("__group_rows") * test_fraction)
    columns = frame.columns
    return positioned.where(~is_test).select(columns), positioned.where(is_test).select(columns)


def assign_folds(frame: DataFrame, folds: int, seed: int, stratified: bool) -> DataFrame:
    """__fold in [0, folds): dealt round-robin in shuffled order, so fold sizes per class differ by at most 1.

    The rows come back spread evenly over one partition per core (Spark's default parallelism: the
    cores in local mode, the executors' cores on a cluster). Ranked per class, each class sits in a
    partition of its own, and every pass of every fit would wait on one core for the majority class
    (3/4 of the churn rows) while the other idled; and a fit's rows are in memory, so partitions beyond
    the cores only add tasks to each of its passes (GBT makes one job per tree level).
    """
    positioned = position_in_group(frame, seed, stratified)
    with_folds = positioned.withColumn(FOLD, (F.col("__pos") % folds).cast("int")).drop("__pos", "__group_rows")
    return with_folds.repartition(frame.sparkSession.sparkContext.defaultParallelism)


def with_class_weights(weights: dict[float, float]):
    def transform(frame: DataFrame) -> DataFrame:
        weight = F.lit(1.0)
        for label, value in weights.items():
            weight = F.when(F.col(LABEL) == label, value).otherwise(weight)
        return frame.withColumn(WEIGHT, weight)

    return transform
