"""Gradient-boosted trees that stop adding trees when a held-out share of their own training rows
stops improving, instead of always growing every tree they may."""

from __future__ import annotations

from pyspark.ml import Estimator, Model
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakeforge.training.wrapped import WrappedEstimator

HELD_OUT = "__early_stopping"
# XGBoost stops only when told after how many rounds without a gain; Spark's GBT stops on validationTol.
XGBOOST_ROUNDS = 20


class EarlyStopping(WrappedEstimator):
    """Marks a seeded `fraction` of the rows fit() is given as the boosting model's validation set
    (validationIndicatorCol): inside cross-validation those are training-fold rows, so validation
    folds and the test split never decide when to stop. maxIter (n_estimators) becomes a cap."""

    def __init__(self, boosting: Estimator, fraction: float, seed: int) -> None:
        super().__init__(boosting)
        self.fraction, self.seed = fraction, seed

    def _fit(self, dataset: DataFrame) -> Model:
        marked = dataset.withColumn(HELD_OUT, F.rand(self.seed) < self.fraction)
        extra = {self.inner.getParam("validationIndicatorCol"): HELD_OUT}
        if self.inner.hasParam("early_stopping_rounds") and self.inner.getOrDefault("early_stopping_rounds") is None:
            extra[self.inner.getParam("early_stopping_rounds")] = XGBOOST_ROUNDS
        return self.inner.copy(extra).fit(marked)
