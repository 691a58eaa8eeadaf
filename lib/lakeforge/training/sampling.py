"""Over/under-sampling that only ever sees training rows: it lives inside the estimator's fit."""

from __future__ import annotations

from pyspark.ml import Estimator, Model
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakeforge.training.columns import LABEL
from lakeforge.training.wrapped import WrappedEstimator


def class_counts(frame: DataFrame) -> dict[float, int]:
    return {row[LABEL]: row["count"] for row in frame.groupBy(LABEL).count().collect()}


def rebalance(frame: DataFrame, strategy: str, seed: int) -> DataFrame:
    """over: repeat minority rows (whole copies, then a seeded sample for the remainder) up to the
    majority count; under: keep a seeded sample of the majority about the size of the minority."""
    counts = class_counts(frame)
    minority, majority = sorted(counts, key=counts.get)
    ratio = counts[majority] / counts[minority]
    if strategy == "under":
        return frame.sampleBy(LABEL, {minority: 1.0, majority: 1 / ratio}, seed)
    minority_rows = frame.where(F.col(LABEL) == minority)
    copies = minority_rows.withColumn("__copy", F.explode(F.sequence(F.lit(1), F.lit(int(ratio) - 1)))).drop("__copy") if ratio >= 2 else None
    remainder = minority_rows.sample(fraction=ratio - int(ratio), seed=seed)
    rebalanced = frame.unionByName(remainder)
    return rebalanced.unionByName(copies) if copies is not None else rebalanced


class TrainingFoldSampler(WrappedEstimator):
    """Wraps a classifier: fit() rebalances the rows it is given, then fits the classifier.

    Inside CrossValidator, fit() only receives the training folds, so validation folds (and the test
    set) are scored as they are.
    """

    def __init__(self, classifier: Estimator, strategy: str, seed: int) -> None:
        super().__init__(classifier)
        self.strategy, self.seed = strategy, seed

    def _fit(self, dataset: DataFrame) -> Model:
        return self.inner.fit(rebalance(dataset, self.strategy, self.seed))
