"""PooledCrossValidator: the same choice and metrics as Spark's CrossValidator, each fold's own scores
kept, the refit on every row, and fold columns checked."""

from __future__ import annotations

import threading
from multiprocessing.pool import ThreadPool

import numpy as np
import pytest
from pyspark.ml.tuning import CrossValidator
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType

from lakeforge.training.columns import LABEL, ColumnRoles
from lakeforge.training.config import FeatureSpec, HalvingSpec, ModelSpec, ValidationSpec
from lakeforge.training.crossval import candidate_pipeline, cross_validate
from lakeforge.training.pipeline import SharedEncodings
from lakeforge.training.features import preprocessing_stages
from lakeforge.training.stratified import FOLD, assign_folds
from lakeforge.training.validator import PooledCrossValidator, SelectionEvaluator, in_own_thread

FOLDS = 3
ROWS = 600


@pytest.fixture(scope="module")
def folded(spark):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(ROWS, 2))
    label = (x[:, 0] - 0.5 * x[:, 1] + rng.normal(scale=1.0, size=ROWS) > 0.8).astype(float)
    rows = [(float(a), float(b), float(y)) for (a, b), y in zip(x, label)]
    frame = spark.createDataFrame(rows, ["a", "b", LABEL])
    return assign_folds(frame, FOLDS, seed=2, stratified=True).cache()


def lr_stages():
    return preprocessing_stages(ColumnRoles(numeric=("a", "b"), categorical=()), FeatureSpec(), "classification", None)


def lr_pipeline(grid: dict):
    spec = ModelSpec(kind="logistic_regression", params={"maxIter": 50}, grid=grid)
    return candidate_pipeline(lr_stages(), "lr", spec, "classification", ValidationSpec(folds=FOLDS))


def validator(cls, grid: dict, parallelism: int = 2, **extra):
    pipeline, maps = lr_pipeline(grid)
    return cls(estimator=pipeline, estimatorParamMaps=maps, evaluator=SelectionEvaluator("classification"),
               numFolds=FOLDS, foldCol=FOLD, parallelism=parallelism, **extra)


def test_chooses_and_scores_as_sparks_cross_validator(folded):
    grid = {"regParam": [0.001, 5.0]}  # a strong penalty flattens the scores' ranking, so the maps differ
    ours = validator(PooledCrossValidator, grid).fit(folded)
    # Spark's serially: in parallel its threads share one copy of the local properties (SPARK-55505)
    # and a fit fails now and then with "Cannot parse null string".
    sparks = validator(CrossValidator, grid, parallelism=1).fit(folded)
    assert ours.avgMetrics == pytest.approx(sparks.avgMetrics, abs=1e-6)
    assert ours.stdMetrics == pytest.approx(sparks.stdMetrics, abs=1e-6)
    assert ours.avgMetrics[0] != pytest.approx(ours.avgMetrics[1], abs=1e-4)
    ours_lr, sparks_lr = ours.bestModel.stages[-1], sparks.bestModel.stages[-1]
    assert ours_lr.getRegParam() == sparks_lr.getRegParam()
    assert ours_lr.coefficients.toArray() == pytest.approx(sparks_lr.coefficients.toArray(), abs=1e-6)


def test_concurrent_tasks_do_not_see_each_others_local_properties(spark):
    context, both_set = spark.sparkContext, threading.Barrier(2, timeout=30)

    def task(name: str) -> str | None:
        context.setLocalProperty("lakeforge.test.task", name)
        both_set.wait()
        return context.getLocalProperty("lakeforge.test.task")

    with ThreadPool(2) as pool:
        pending = [pool.apply_async(in_own_thread(spark, lambda name=name: task(name))) for name in ("a", "b")]
        assert [result.get() for result in pending] == ["a", "b"]
    assert context.getLocalProperty("lakeforge.test.task") is None


@pytest.mark.parametrize("grid", [{}, {"regParam": [0.01, 0.1]}], ids=["one map, refit pooled", "two maps, refit after"])
def test_keeps_each_folds_own_scores_and_refits_on_every_row(folded, grid):
    model = validator(PooledCrossValidator, grid, collectSubModels=True).fit(folded)
    evaluator = SelectionEvaluator("classification")
    for fold in range(FOLDS):
        fold_labels = np.array([r[LABEL] for r in folded.where(F.col(FOLD) == fold).select(LABEL).collect()])
        for j, (label, score) in enumerate(model.validation_scores[fold]):
            assert len(label) == len(fold_labels) and label.sum() == fold_labels.sum()
            assert np.all((score > 0) & (score < 1))
            # The kept scores are the sub-model's scores of exactly this fold.
            refit = evaluator.scores(model.subModels[fold][j].transform(folded.where(F.col(FOLD) == fold)))
            assert np.sort(score) == pytest.approx(np.sort(refit[1]))
    for j in range(len(model.avgMetrics)):
        per_fold = [evaluator.metric(*model.validation_scores[fold][j]) for fold in range(FOLDS)]
        assert model.avgMetrics[j] == pytest.approx(np.mean(per_fold), abs=1e-12)
    assert model.bestModel.stages[-1].summary.predictions.count() == ROWS


def test_a_fold_column_out_of_range_or_missing_a_fold_is_rejected(folded):
    with pytest.raises(ValueError, match=r"in \[0, 3\).*holds \[0, 1, 2, 3\]"):
        validator(PooledCrossValidator, {}).fit(folded.withColumn(FOLD, F.when(F.col("a") > 1.5, 3).otherwise(F.col(FOLD))))
    with pytest.raises(ValueError, match=r"holds \[0, 1\]"):
        validator(PooledCrossValidator, {}).fit(folded.where(F.col(FOLD) != 2))


def test_models_sharing_encodings_read_the_raw_rows_less_and_score_the_same(spark, folded):
    reads = spark.sparkContext.accumulator(0)

    def counted(value):
        reads.add(1)
        return value

    counted_rows = folded.withColumn("a", F.udf(counted, DoubleType()).asNondeterministic()("a"))
    stages, validation = lr_stages(), ValidationSpec(folds=FOLDS)
    ridge = ModelSpec(kind="logistic_regression", params={"maxIter": 50}, grid={"regParam": [0.01, 0.1]})
    forest = ModelSpec(kind="random_forest", params={"numTrees": 5, "maxDepth": 3})
    folded.count()  # its own cache, filled before the count of caches is taken
    cached_before = set(spark.sparkContext._jsc.getPersistentRDDs().keys())

    def reads_of(spec: ModelSpec, encodings: SharedEncodings | None):
        before = reads.value
        result = cross_validate(counted_rows, stages, "m", spec, "classification", validation, encodings)
        return reads.value - before, result

    alone = [reads_of(spec, None) for spec in (ridge, forest)]
    shared = SharedEncodings()
    together = [reads_of(spec, shared) for spec in (ridge, forest)]
    assert set(spark.sparkContext._jsc.getPersistentRDDs().keys()) - cached_before  # held until released
    shared.release()
    assert set(spark.sparkContext._jsc.getPersistentRDDs().keys()) <= cached_before
    # The forest's folds and refit reuse the ridge's k + 1 encodings: it reads raw rows only to score.
    assert together[1][0] < alone[1][0] and together[0][0] <= alone[0][0]
    for (_, on_its_own), (_, sharing) in zip(alone, together):
        assert sharing.grid == on_its_own.grid
        assert np.array_equal(sharing.oof_score, on_its_own.oof_score)


def test_halving_scores_every_map_on_the_first_fold_and_only_the_best_third_on_the_rest(folded):
    # Lasso at regParam 1 and 2 zeroes every coefficient (ROC-AUC 0.5); 0.001 is best on every fold.
    grid = {"regParam": [1.0, 0.001, 2.0], "elasticNetParam": [1.0]}
    full = validator(PooledCrossValidator, grid, collectSubModels=True).fit(folded)
    halved = validator(PooledCrossValidator, grid, collectSubModels=True)
    halved.halving = HalvingSpec(folds=1, factor=3)
    halved = halved.fit(folded)
    evaluator = SelectionEvaluator("classification")
    # Every map on fold 0; only the survivor (one of three) on folds 1 and 2: 5 fits, not 9.
    assert [[scores is not None for scores in row] for row in halved.validation_scores] == [[True] * 3, [False, True, False], [False, True, False]]
    assert halved.best_index == full.best_index == 1
    assert halved.avgMetrics[1] == pytest.approx(full.avgMetrics[1], abs=1e-9)
    # A dropped map keeps what its first fold measured, the same as the full search's fold 0.
    for j in (0, 2):
        assert halved.avgMetrics[j] == pytest.approx(evaluator.metric(*full.validation_scores[0][j]), abs=1e-9)
        assert halved.stdMetrics[j] == 0.0
    assert halved.bestModel.stages[-1].getRegParam() == 0.001


def test_halving_needs_folds_left_after_its_first_round():
    with pytest.raises(ValueError, match=r"halving.folds \(3\) must be fewer than validation.folds \(3\)"):
        ValidationSpec(folds=3, halving=HalvingSpec(folds=3))
