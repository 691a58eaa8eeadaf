"""GBT early stopping: it stops before maxIter on rows held out from its own training rows, and the
saved pipeline scores rows that have no held-out mark."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from lakeforge.training.columns import LABEL, ColumnRoles
from lakeforge.training.config import FeatureSpec, ModelSpec, ValidationSpec
from lakeforge.training.crossval import candidate_pipeline
from lakeforge.training.features import preprocessing_stages

MAX_ITER = 120


@pytest.fixture(scope="module")
def rows(spark):
    rng = np.random.default_rng(6)
    x = rng.uniform(-2, 2, size=(800, 2))
    label = np.sin(x[:, 0]) + 0.5 * x[:, 1] + rng.normal(0, 0.3, 800)
    return spark.createDataFrame(pd.DataFrame({"a": x[:, 0], "b": x[:, 1], LABEL: label})).cache()


def fitted_trees(rows, early_stopping: float | None) -> int:
    stages = preprocessing_stages(ColumnRoles(numeric=("a", "b"), categorical=()), FeatureSpec(), "regression", None)
    spec = ModelSpec(kind="gbt", params={"maxIter": MAX_ITER, "maxDepth": 3, "stepSize": 0.5}, early_stopping=early_stopping)
    pipeline, _ = candidate_pipeline(stages, "gbt", spec, "regression", ValidationSpec())
    model = pipeline.fit(rows)
    scored = model.transform(rows.drop(LABEL)).select("prediction").toPandas()["prediction"]
    assert scored.notna().all() and len(scored) == 800
    return model.stages[-1].getNumTrees


def test_gbt_stops_before_max_iter_on_held_out_training_rows(rows):
    # A large step overfits the noise within a few dozen trees: the held-out rows stop improving.
    assert fitted_trees(rows, None) == MAX_ITER
    assert 2 <= fitted_trees(rows, 0.2) < MAX_ITER / 2


def test_early_stopping_is_for_boosting_only():
    with pytest.raises(ValidationError, match="early_stopping applies to kinds gbt and xgboost"):
        ModelSpec(kind="random_forest", early_stopping=0.2)
    with pytest.raises(ValidationError):
        ModelSpec(kind="gbt", early_stopping=0.7)
