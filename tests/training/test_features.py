"""The saved pipeline: raw rows in (unseen categories, blank numbers), PCA sized by explained variance,
importance named by original columns; what training leaves cached."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegression
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from lakeforge.config import load_config
from lakeforge.training.columns import LABEL, check_label, detect_roles, with_label
from lakeforge.training.config import DataSpec, FeatureSpec, PcaSpec, TrainingConfig
from lakeforge.training.features import FEATURES, choose_pca_k, encoding_stages, preprocessing_stages
from lakeforge.training.importance import named_importance
from lakeforge.training.pipeline import PersistingPipeline
from lakeforge.training.sample_data import telco_frame
from lakeforge.training.train import prepare


@pytest.fixture(scope="module")
def telco(spark):
    frame = telco_frame(rows=400, seed=5).astype(str)  # every column as text, as a CSV read gives it
    raw = spark.createDataFrame(frame)
    spec = DataSpec(label="Churn")
    check_label(raw, spec, "classification")
    roles = detect_roles(raw, spec)
    return raw.transform(with_label(spec, "classification")).cache(), roles


def test_saved_model_scores_raw_rows_with_unseen_categories_and_blank_numbers(spark, telco, tmp_path):
    train, roles = telco
    assert "TotalCharges" in roles.numeric and "customerID" in roles.excluded
    stages = preprocessing_stages(roles, FeatureSpec(scaler="minmax"), "classification", None)
    model = Pipeline(stages=[*stages, LogisticRegression(featuresCol=FEATURES, labelCol=LABEL, maxIter=10)]).fit(train)
    model.write().save(str(tmp_path / "model"))
    loaded = PipelineModel.load(str(tmp_path / "model"))

    raw = train.drop(LABEL).limit(4).toPandas()
    raw.loc[0, "InternetService"] = "Satellite"  # never seen in training
    raw.loc[1, "TotalCharges"] = " "
    raw.loc[2, "TotalCharges"] = ""
    raw.loc[3, "Contract"] = None
    scored = loaded.transform(spark.createDataFrame(raw)).select("customerID", "probability", "prediction").collect()
    assert [row.customerID for row in scored] == list(raw["customerID"])
    for row in scored:
        assert row.prediction in (0.0, 1.0) and abs(sum(row.probability) - 1) < 1e-9 and not np.isnan(row.probability[1])


def test_pca_keeps_the_components_that_reach_the_variance_target(telco):
    train, roles = telco
    spec = FeatureSpec(pca=PcaSpec(explained_variance=0.9))
    k, dimension = choose_pca_k(train, roles, spec)

    # Independently: eigenvalues of the covariance of the scaled, encoded matrix.
    encoded = Pipeline(stages=encoding_stages(roles, spec)).fit(train).transform(train)
    matrix = np.array([row.scaled.toArray() for row in encoded.select("scaled").collect()])
    eigenvalues = np.sort(np.linalg.eigvalsh(np.cov(matrix, rowvar=False)))[::-1]
    share = np.cumsum(eigenvalues) / eigenvalues.sum()
    assert dimension == matrix.shape[1]
    assert k == int(np.argmax(share >= 0.9)) + 1 and k < dimension

    model = Pipeline(stages=preprocessing_stages(roles, spec, "classification", k)).fit(train)
    assert len(model.transform(train).first()[FEATURES]) == k


def test_importance_is_named_by_original_column_and_category(telco):
    train, roles = telco
    stages = preprocessing_stages(roles, FeatureSpec(pca=PcaSpec(explained_variance=0.95)), "classification", 10)
    model = Pipeline(stages=[*stages, LogisticRegression(featuresCol=FEATURES, labelCol=LABEL, maxIter=10)]).fit(train)
    ranked, signed = named_importance(model)
    names = [name for name, _ in ranked]
    assert signed and "tenure" in names and "Contract=Month-to-month" in names
    assert len(names) == len(set(names)) == len(roles.numeric) + sum(
        train.select(c).distinct().count() for c in roles.categorical
    )


def test_persisting_pipeline_fits_the_same_model_and_releases_its_cache(spark, telco, tmp_path):
    train, roles = telco
    stages = preprocessing_stages(roles, FeatureSpec(), "classification", None)
    classifier = LogisticRegression(featuresCol=FEATURES, labelCol=LABEL, maxIter=50)
    cached_before = set(spark.sparkContext._jsc.getPersistentRDDs().keys())

    persisted = PersistingPipeline(stages=[*stages, classifier]).fit(train)
    plain = Pipeline(stages=[*stages, classifier]).fit(train)

    # By id, not count: Spark's cleaner may release an earlier test's cache meanwhile.
    assert set(spark.sparkContext._jsc.getPersistentRDDs().keys()) <= cached_before
    assert [type(stage) for stage in persisted.stages] == [type(stage) for stage in plain.stages]
    assert np.allclose(persisted.stages[-1].coefficients.toArray(), plain.stages[-1].coefficients.toArray())
    persisted.write().save(str(tmp_path / "model"))  # an ordinary PipelineModel
    reloaded = PipelineModel.load(str(tmp_path / "model")).transform(train).select("probability").collect()
    expected = plain.transform(train).select("probability").collect()
    assert np.allclose([row.probability[1] for row in reloaded], [row.probability[1] for row in expected])


def test_prepared_data_keeps_only_the_train_and_test_rows_cached(spark, training_conf):
    config = load_config(training_conf / "churn.yml", TrainingConfig, env="test")
    cached_before = set(spark.sparkContext._jsc.getPersistentRDDs().keys())
    data = prepare(spark, config)
    try:
        added = set(spark.sparkContext._jsc.getPersistentRDDs().keys()) - cached_before
        # Two caches, train and test; the labelled frame they were cut from is released.
        assert len(added) == 2
        assert data.train.is_cached and data.test.is_cached
    finally:
        data.train.unpersist()
        data.test.unpersist()


def raw_reads(spark, pipeline: Pipeline, train, column: str) -> int:
    """How many times fitting `pipeline` reads a raw value of `column` (counted by a Python UDF)."""
    reads = spark.sparkContext.accumulator(0)

    def counted(value):
        reads.add(1)
        return value

    pipeline.fit(train.withColumn(column, F.udf(counted, StringType()).asNondeterministic()(column)))
    return reads.value


def test_persisting_pipeline_encodes_the_raw_rows_once_for_every_stage_after_the_assembler(spark, telco):
    train, roles = telco
    rows = train.count()
    stages = preprocessing_stages(roles, FeatureSpec(pca=PcaSpec(explained_variance=0.9)), "classification", 5)
    classifier = LogisticRegression(featuresCol=FEATURES, labelCol=LABEL, maxIter=10)
    column = roles.numeric[0]
    # The Imputer's fit reads the numeric column once, then persisting the encoding once. The scaler's
    # and PCA's fits and the classifier's passes all read the persisted encoding.
    assert raw_reads(spark, PersistingPipeline(stages=[*stages, classifier]), train, column) == 2 * rows
    assert raw_reads(spark, Pipeline(stages=[*stages, classifier]), train, column) > 4 * rows
