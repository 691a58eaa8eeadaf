"""The tuned decision threshold inside the saved model, so its `prediction` column uses it wherever it
is loaded: Spark's `thresholds` param where the classifier has one, else a last stage of its own."""

from __future__ import annotations

from pyspark.ml import PipelineModel, Transformer
from pyspark.ml.functions import vector_to_array
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasPredictionCol, HasProbabilityCol
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import DataFrame
from pyspark.sql import functions as F


class PositiveClassThreshold(Transformer, HasProbabilityCol, HasPredictionCol, DefaultParamsReadable, DefaultParamsWritable):
    """prediction = 1.0 when P(class 1) >= threshold, else 0.0: for classifiers without Spark's
    `thresholds` (xgboost.spark predicts the argmax, i.e. at 0.5). Saved and loaded with the pipeline."""

    threshold = Param(Params._dummy(), "threshold", "predict 1 when P(class 1) >= this", typeConverter=TypeConverters.toFloat)

    def __init__(self, threshold: float = 0.5) -> None:
        super().__init__()
        self._setDefault(probabilityCol="probability", predictionCol="prediction", threshold=0.5)
        self._set(threshold=threshold)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        positive = vector_to_array(F.col(self.getProbabilityCol()))[1]
        return dataset.withColumn(self.getPredictionCol(), (positive >= self.getOrDefault(self.threshold)).cast("double"))


def fitted_model(pipeline: PipelineModel) -> Transformer:
    """The fitted estimator: the last stage, or the one before a PositiveClassThreshold."""
    stages = pipeline.stages
    return stages[-2] if isinstance(stages[-1], PositiveClassThreshold) else stages[-1]


def set_decision_threshold(pipeline: PipelineModel, threshold: float) -> None:
    """Predict the positive class when p >= threshold. With Spark's thresholds t = [1 - threshold,
    threshold], argmax(p_i / t_i) is exactly that rule."""
    classifier = fitted_model(pipeline)
    if classifier.hasParam("thresholds"):
        classifier.set(classifier.getParam("thresholds"), [1.0 - threshold, threshold])
    elif isinstance(pipeline.stages[-1], PositiveClassThreshold):
        pipeline.stages[-1].set(pipeline.stages[-1].threshold, threshold)
    else:
        pipeline.stages.append(PositiveClassThreshold(threshold))


def decision_threshold(pipeline: PipelineModel) -> float:
    """Probability from which the classifier predicts 1: with thresholds t it predicts argmax(p_i / t_i),
    i.e. 1 when p > t1 / (t0 + t1); 0.5 when none are set."""
    last = pipeline.stages[-1]
    if isinstance(last, PositiveClassThreshold):
        return last.getOrDefault(last.threshold)
    if last.hasParam("thresholds") and last.isSet("thresholds"):
        t0, t1 = last.getOrDefault("thresholds")
        return float(t1 / (t0 + t1))
    return 0.5
