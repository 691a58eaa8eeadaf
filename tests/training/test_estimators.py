"""Estimators from config: the forest's node cache changes the speed, never the forest."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.ml.feature import VectorAssembler

from lakeforge.training.columns import LABEL
from lakeforge.training.config import ModelSpec
from lakeforge.training.estimators import build_estimator
from lakeforge.training.features import FEATURES


def test_forests_cache_node_ids_by_default_and_grow_the_same_trees(spark):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(400, 3))
    rows = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], LABEL: x[:, 0] * x[:, 1] + rng.normal(0, 0.1, 400)})
    frame = VectorAssembler(inputCols=["a", "b", "c"], outputCol=FEATURES).transform(spark.createDataFrame(rows))
    spec = {"kind": "random_forest", "params": {"numTrees": 5, "maxDepth": 8}}
    cached = build_estimator("rf", ModelSpec(**spec), "regression", weighted=False, seed=3)
    walked = build_estimator("rf", ModelSpec(**{**spec, "params": {**spec["params"], "cacheNodeIds": False}}), "regression", weighted=False, seed=3)
    assert cached.getCacheNodeIds() and not walked.getCacheNodeIds()
    cached_model, walked_model = cached.fit(frame), walked.fit(frame)
    assert cached_model.toDebugString.split("\n", 1)[1] == walked_model.toDebugString.split("\n", 1)[1]
    assert cached_model.totalNumNodes > 50
