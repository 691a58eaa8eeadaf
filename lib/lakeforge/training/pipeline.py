"""A Pipeline whose fit computes the features once for the model's many passes over them."""

from __future__ import annotations

from pyspark import StorageLevel
from pyspark.ml import Pipeline, PipelineModel
from pyspark.sql import DataFrame

from lakeforge.training.columns import LABEL
from lakeforge.training.features import FEATURES
from lakeforge.training.stratified import WEIGHT


class PersistingPipeline(Pipeline):
    """Fits the preprocessing stages, then the final estimator on persisted (features, label, weight).

    Spark's Pipeline.fit hands the last estimator a lazily transformed frame, so each of its passes
    (LogisticRegression makes two before it iterates, GBT several per tree) casts, indexes, one-hot
    encodes and assembles the raw rows again; assembling alone costs about 7 us a row. Only the columns
    the estimator reads are kept in memory, and only while it fits. The result is an ordinary
    PipelineModel, saved and loaded like any other.
    """

    def _fit(self, dataset: DataFrame) -> PipelineModel:
        *preprocessing, estimator = self.getStages()
        features = Pipeline(stages=preprocessing).fit(dataset)
        # Only what the estimators here read (the training-fold sampler too): features, label, weight.
        # An 800k-row LR fit: 19 s so, 28 s keeping the input columns as well, 48 s keeping every column.
        encoded = features.transform(dataset)
        kept = [column for column in (FEATURES, LABEL, WEIGHT) if column in encoded.columns]
        encoded = encoded.select(*kept).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            model = estimator.fit(encoded)
        finally:
            encoded.unpersist()
        return PipelineModel(stages=[*features.stages, model])
