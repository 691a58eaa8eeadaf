"""Stratified split and folds keep class ratios; over-sampling only ever sees training folds."""

from __future__ import annotations

from collections import Counter

import pytest
from pyspark.sql import functions as F

from lakeforge.training.columns import LABEL, ColumnRoles
from lakeforge.training.config import FeatureSpec, ModelSpec, ValidationSpec
from lakeforge.training.crossval import candidate_pipeline
from lakeforge.training.features import FEATURES, preprocessing_stages
from lakeforge.training.stratified import FOLD, assign_folds, split_train_test
from lakeforge.training.validator import PooledCrossValidator, SelectionEvaluator

POSITIVES, NEGATIVES = 137, 863


@pytest.fixture(scope="module")
def labelled(spark):
    rows = [(i, float(i % 7), 1.0 if i < POSITIVES else 0.0) for i in range(POSITIVES + NEGATIVES)]
    return spark.createDataFrame(rows, ["row_id", "x", LABEL]).cache()


def class_counts(frame) -> dict[float, int]:
    return {row[LABEL]: row["count"] for row in frame.groupBy(LABEL).count().collect()}


def test_stratified_split_keeps_each_class_share_to_one_row(labelled):
    train, test = split_train_test(labelled, test_fraction=0.25, seed=3, stratified=True)
    test_counts, train_counts = class_counts(test), class_counts(train)
    assert abs(test_counts[1.0] - POSITIVES * 0.25) <= 1 and abs(test_counts[0.0] - NEGATIVES * 0.25) <= 1
    assert train_counts[1.0] + test_counts[1.0] == POSITIVES and train_counts[0.0] + test_counts[0.0] == NEGATIVES
    assert train.join(test, "row_id").count() == 0


def test_split_is_reproducible_for_a_seed_and_differs_across_seeds(labelled):
    ids = lambda frame: sorted(r.row_id for r in frame.select("row_id").collect())  # noqa: E731
    first = ids(split_train_test(labelled, 0.2, seed=3, stratified=True)[1])
    again = ids(split_train_test(labelled.repartition(5), 0.2, seed=3, stratified=True)[1])
    other = ids(split_train_test(labelled, 0.2, seed=4, stratified=True)[1])
    assert first == again and first != other


def test_stratified_folds_differ_by_at_most_one_row_per_class(labelled):
    folds = assign_folds(labelled, folds=4, seed=3, stratified=True)
    counts = Counter((row[FOLD], row[LABEL]) for row in folds.select(FOLD, LABEL).collect())
    for label, total in ((1.0, POSITIVES), (0.0, NEGATIVES)):
        sizes = [counts[(fold, label)] for fold in range(4)]
        assert sum(sizes) == total and max(sizes) - min(sizes) <= 1, (label, sizes)


def test_folds_come_back_spread_evenly_over_one_partition_per_core(spark, labelled):
    folds = assign_folds(labelled, folds=4, seed=3, stratified=True)
    sizes = [row["count"] for row in folds.groupBy(F.spark_partition_id()).count().collect()]
    # Ranked per class, the rows would sit in one partition per class: 137 and 863.
    assert len(sizes) == spark.sparkContext.defaultParallelism and max(sizes) - min(sizes) <= 1


def test_shuffled_folds_for_regression_are_even_and_mixed(labelled):
    folds = assign_folds(labelled, folds=3, seed=3, stratified=False)
    sizes = [row["count"] for row in folds.groupBy(FOLD).count().collect()]
    assert sorted(sizes) == [333, 333, 334]
    first_fold_ids = [r.row_id for r in folds.where(F.col(FOLD) == 0).select("row_id").collect()]
    assert max(first_fold_ids) - min(first_fold_ids) > 900  # shuffled, not contiguous blocks


def test_over_sampling_touches_training_folds_only(spark, labelled):
    folds = 3
    data = assign_folds(labelled, folds, seed=3, stratified=True).cache()
    # row_id is a feature, unscaled, so the rows a fit saw are known from its features alone.
    roles = ColumnRoles(numeric=("row_id", "x"), categorical=())
    validation = ValidationSpec(folds=folds, sampling="over")
    spec = ModelSpec(kind="logistic_regression", params={"maxIter": 5})
    stages = preprocessing_stages(roles, FeatureSpec(scaler="none"), "classification", None)
    pipeline, grid = candidate_pipeline(stages, "lr", spec, "classification", validation)
    model = PooledCrossValidator(estimator=pipeline, estimatorParamMaps=grid, evaluator=SelectionEvaluator("classification"),
                                 numFolds=folds, foldCol=FOLD, collectSubModels=True).fit(data)
    for fold in range(folds):
        validation_ids = {r.row_id for r in data.where(F.col(FOLD) == fold).select("row_id").collect()}
        training_ids = {r.row_id for r in data.where(F.col(FOLD) != fold).select("row_id").collect()}
        # The classifier's training summary holds exactly the rows it was fitted on.
        fitted_rows = model.subModels[fold][0].stages[-1].summary.predictions.select(FEATURES, LABEL).collect()
        fitted_ids = Counter(int(r[FEATURES][0]) for r in fitted_rows)
        assert not validation_ids & set(fitted_ids), f"fold {fold}: validation rows reached the fit"
        assert set(fitted_ids) == training_ids
        labels = Counter(r[LABEL] for r in fitted_rows)
        assert labels[1.0] > 0.8 * labels[0.0], f"fold {fold}: minority not over-sampled: {labels}"
        assert max(fitted_ids.values()) > 1
