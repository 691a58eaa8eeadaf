"""Gradient-boosted trees that stop adding trees when a held-out share of their own training rows
stops improving, instead of always growing maxIter trees."""

from __future__ import annotations

from pyspark.ml import Estimator, Model
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakeforge.training.wrapped import WrappedEstimator

HELD_OUT = "__early_stopping"


class EarlyStopping(WrappedEstimator):
    """Marks a seeded `fraction` of the rows fit() is given as GBT's validation set
    (validationIndicatorCol): inside cross-validation those are training-fold rows, so validation
    folds and the test split never decide when to stop. maxIter becomes a cap."""

    def __init__(self, gbt: Estimator, fraction: float, seed: int) -> None:
        super().__init__(gbt)
        self.fraction, self.seed = fraction, seed

    def _fit(self, dataset: DataFrame) -> Model:
        marked = dataset.withColumn(HELD_OUT, F.rand(self.seed) < self.fraction)
        return self.inner.copy({self.inner.getParam("validationIndicatorCol"): HELD_OUT}).fit(marked)
