"""Cross-validation on pre-assigned folds: every (fold, param map) fit from one pool, each validation
fold scored once and its (label, score) kept."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from multiprocessing.pool import ThreadPool

import numpy as np
from pyspark.ml import Model
from pyspark.ml.evaluation import Evaluator
from pyspark.ml.functions import vector_to_array
from pyspark.ml.tuning import CrossValidator, CrossValidatorModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.util import inheritable_thread_target

from lakeforge.training.columns import LABEL
from lakeforge.training.config import HalvingSpec
from lakeforge.training.metrics import regression_metrics, roc_auc

SCORE = "__score"

Scores = tuple[np.ndarray, np.ndarray]  # (label, score) of one validation fold


def in_own_thread(session: SparkSession, task: Callable) -> Callable:
    """`task` to run in a pool thread with its own copy of the caller's local properties.

    inheritable_thread_target(session) copies them once and hands that one copy to every function it
    wraps, so concurrent Spark jobs share it: one job's end clears the root execution id another is
    still reading (SPARK-55505, "Cannot parse null string"). Wrapping each task apart copies per task.
    """
    return inheritable_thread_target(session)(task)


def scored(frame: DataFrame, task: str) -> DataFrame:
    """label + score (positive-class probability, or the predicted value)."""
    score = vector_to_array("probability")[1] if task == "classification" else F.col("prediction")
    return frame.select(F.col(LABEL), score.alias(SCORE))


def collect_scores(frame: DataFrame) -> Scores:
    pdf = frame.toPandas()
    return pdf[LABEL].to_numpy(dtype=float), pdf[SCORE].to_numpy(dtype=float)


class SelectionEvaluator(Evaluator):
    """What param maps are ranked by: ROC-AUC (classification) or RMSE (regression), computed from the
    validation fold's collected (label, score) pairs.

    Spark's BinaryClassificationEvaluator sorts the scores in a Spark job (about 6 s for a 200k-row
    fold here) and bins its curve; the two columns come to the driver in well under a second, and
    the AUC is then exact and the same as the reported fold metrics.
    """

    def __init__(self, task: str):
        super().__init__()
        self.task = task

    def scores(self, dataset: DataFrame) -> Scores:
        return collect_scores(scored(dataset, self.task))

    def metric(self, label: np.ndarray, score: np.ndarray) -> float:
        return roc_auc(label, score) if self.task == "classification" else regression_metrics(label, score)["rmse"]

    def _evaluate(self, dataset: DataFrame) -> float:
        return self.metric(*self.scores(dataset))

    def isLargerBetter(self) -> bool:
        return self.task == "classification"


class ScoredCrossValidatorModel(CrossValidatorModel):
    """Spark's CrossValidatorModel plus `validation_scores[fold][param map]`: that fold's (label, score),
    and `best_index`: the param map bestModel was refitted with."""

    def __init__(self, best: Model, avg: list[float], sub_models: list[list[Model]] | None, std: list[float],
                 validation_scores: list[list[Scores]], best_index: int):
        super().__init__(best, avg, sub_models, std)
        self.validation_scores = validation_scores
        self.best_index = best_index


def check_folds(dataset: DataFrame, fold_col: str, folds: int) -> None:
    """One aggregation instead of Spark's per-row Python UDF and two take(1) jobs per fold."""
    present = sorted(row[0] for row in dataset.groupBy(fold_col).count().collect())
    if present != list(range(folds)):
        raise ValueError(f"{fold_col} must hold every fold in [0, {folds}) and nothing else; it holds {present}")


class PooledCrossValidator(CrossValidator):
    """CrossValidator on `foldCol` (required) whose `parallelism` spans folds as well as param maps.

    Spark's fits one fold after another and runs only that fold's param maps at once, so a one-map
    grid fits serially, and a fit's many small jobs (an L-BFGS iteration is one) leave a core idle
    while the driver plans and schedules the next. Here all k x maps fits share one pool, and with a
    one-map grid the final refit on every row joins them. The evaluator must be a SelectionEvaluator:
    each validation fold is scored once, and the kept scores are the out-of-fold predictions, where
    they were scored again before. Folds are filtered from `dataset` as given, not cached again per
    fold: cache it first. 5-fold LR on 100k churn rows: 54 s with Spark's, 34 s with this.
    """

    # Successive halving: every param map on the first folds, then only the best share on the rest.
    halving: HalvingSpec | None = None

    def _fit(self, dataset: DataFrame) -> ScoredCrossValidatorModel:
        estimator, maps, evaluator = self.getEstimator(), self.getEstimatorParamMaps(), self.getEvaluator()
        folds, fold_col = self.getNumFolds(), self.getFoldCol()
        if not fold_col:
            raise ValueError("PooledCrossValidator needs foldCol: assign folds first (stratified.assign_folds)")
        check_folds(dataset, fold_col, folds)
        fold = F.col(fold_col)
        sign = 1.0 if evaluator.isLargerBetter() else -1.0

        def fit_and_score(i: int, j: int) -> tuple[Model, Scores]:
            # A copy per fit: fit(data, {}) fits the estimator itself, and concurrent fits of one set of
            # stage objects would race on their Java params.
            model = estimator.copy(maps[j]).fit(dataset.where(fold != i))
            return model, evaluator.scores(model.transform(dataset.where(fold == i), maps[j]))

        in_thread = partial(in_own_thread, dataset.sparkSession)
        # fitted[i][j]: (model, scores) of param map j on fold i; None where halving dropped j first.
        fitted: list[list[tuple[Model, Scores] | None]] = [[None] * len(maps) for _ in range(folds)]
        metrics = np.full((folds, len(maps)), np.nan)

        def run(pool: ThreadPool, fold_range: range, candidates: list[int]) -> None:
            pending = {(i, j): pool.apply_async(in_thread(partial(fit_and_score, i, j))) for i in fold_range for j in candidates}
            for (i, j), task in pending.items():
                fitted[i][j] = task.get()
                metrics[i, j] = evaluator.metric(*fitted[i][j][1])

        first = folds if self.halving is None else min(self.halving.folds, folds)
        with ThreadPool(self.getParallelism()) as pool:
            # The refit is the biggest fit, so it goes first when the params are already known.
            refit = pool.apply_async(in_thread(partial(estimator.copy(maps[0]).fit, dataset))) if len(maps) == 1 else None
            survivors = list(range(len(maps)))
            run(pool, range(first), survivors)
            if first < folds:
                ranked = sorted(survivors, key=lambda j: -sign * metrics[:first, j].mean())
                survivors = sorted(ranked[: max(1, -(-len(maps) // self.halving.factor))])
                run(pool, range(first, folds), survivors)
            avg, std = np.nanmean(metrics, axis=0), np.nanstd(metrics, axis=0)
            best = max(survivors, key=lambda j: sign * avg[j])
            best_model = refit.get() if refit is not None else estimator.fit(dataset, maps[best])
        scores = [[entry[1] if entry else None for entry in row] for row in fitted]
        kept = [[entry[0] if entry else None for entry in row] for row in fitted] if self.getCollectSubModels() else None
        return self._copyValues(ScoredCrossValidatorModel(best_model, avg.tolist(), kept, std.tolist(), scores, best))
