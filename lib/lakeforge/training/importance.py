"""Feature importance / coefficients named by original column and category, through PCA and selection."""

from __future__ import annotations

import numpy as np
from pyspark.ml import PipelineModel

from lakeforge.training.decision import fitted_model
from lakeforge.training.features import feature_slot_names, stage_named


def model_weights(model: PipelineModel) -> tuple[np.ndarray, bool]:
    """(values in the model's own feature space, whether they are signed linear coefficients)."""
    estimator = fitted_model(model)
    if hasattr(estimator, "featureImportances"):
        return estimator.featureImportances.toArray(), False
    if hasattr(estimator, "get_booster"):  # xgboost: total gain per slot, shared out to sum to 1 like Spark's
        booster = estimator.get_booster()
        gains = np.zeros(booster.num_features())
        for slot, gain in booster.get_score(importance_type="total_gain").items():
            gains[int(slot.removeprefix("f"))] = gain
        return gains / gains.sum() if gains.sum() > 0 else gains, False
    return estimator.coefficients.toArray(), True


def named_importance(model: PipelineModel) -> tuple[list[tuple[str, float]], bool]:
    """Weights per original feature slot, largest magnitude first, and whether they are coefficients.

    Back through selection (unselected slots get 0) and PCA: linear coefficients map exactly through
    the loadings; tree importances are shared out by squared loadings, which keeps their sum.
    """
    names = feature_slot_names(model)
    values, signed = model_weights(model)
    pca = stage_named(model, "PCAModel")
    selector = stage_named(model, "UnivariateFeatureSelectorModel")
    if selector is not None:
        full = np.zeros(pca.getK() if pca is not None else len(names))
        full[list(selector.selectedFeatures)] = values
        values = full
    if pca is not None:
        loadings = pca.pc.toArray()  # slots x components
        values = loadings @ values if signed else (loadings**2) @ values
    ranked = sorted(zip(names, values.tolist()), key=lambda pair: -abs(pair[1]))
    return ranked, signed
