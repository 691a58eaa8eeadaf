"""Per-prediction feature contributions (SHAP values) by original column: what moved each score.

Linear models: coefficient x standardised feature, exact SHAP for a linear model (the standard scaler
centres every slot on the training rows). XGBoost: TreeSHAP from the booster itself (pred_contrib).
A row's contributions plus the bias add up to its margin: log-odds for a classifier, the predicted
value for a regressor. One-hot slots of a column add up to that column's contribution.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.ml import PipelineModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame

from lakeforge.training.decision import fitted_model
from lakeforge.training.features import FEATURES, encoded_categories, feature_slot_names, stage_named

BIAS = "(bias)"
CONTRIBUTIONS = "__contributions"


def explainable(model: PipelineModel) -> str | None:
    """None when contributions can be named by original column, else why not."""
    estimator = fitted_model(model)
    if stage_named(model, "PCAModel") or stage_named(model, "UnivariateFeatureSelectorModel"):
        return "PCA and feature selection mix or drop the original columns"
    if hasattr(estimator, "get_booster"):
        return None
    if not hasattr(estimator, "coefficients"):
        return f"{type(estimator).__name__} has no exact per-prediction contributions here (linear models and xgboost do)"
    scaler = stage_named(model, "StandardScalerModel")
    if scaler is None or not scaler.getWithMean():
        return "linear contributions need the standard scaler (features.scaler: standard), which centres each feature"
    return None


def slot_contributions(model: PipelineModel, rows: DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(rows x feature slots, bias per row) in the model's own feature space."""
    estimator = fitted_model(model)
    features = PipelineModel(stages=model.stages[: model.stages.index(estimator)]).transform(rows)
    if hasattr(estimator, "get_booster"):
        scored = estimator.copy({estimator.getParam("pred_contrib_col"): CONTRIBUTIONS}).transform(features)
        # A classifier's are per class group ([[...]], one group for two classes); a regressor's flat.
        values = np.array([np.array(list(row), dtype=float).ravel() for row in scored.select(CONTRIBUTIONS).toPandas()[CONTRIBUTIONS]])
        return values[:, :-1], values[:, -1]
    vectors = features.select(vector_to_array(FEATURES).alias(FEATURES)).toPandas()[FEATURES]
    slots = np.stack(vectors.to_numpy()) * estimator.coefficients.toArray()
    return slots, np.full(len(slots), float(estimator.intercept))


def original_column(slot: str, categorical: set[str]) -> str:
    """`plan=basic` -> `plan` for a categorical column's slot; a numeric or derived slot is its own."""
    column = slot.split("=", 1)[0]
    return column if "=" in slot and column in categorical else slot


def contributions(model: PipelineModel, rows: DataFrame) -> pd.DataFrame:
    """One row per scored row: each original column's contribution (categories' slots summed) and the
    bias. Raises ValueError naming why when the model cannot be explained this way."""
    why = explainable(model)
    if why is not None:
        raise ValueError(f"no per-prediction contributions for this model: {why}")
    slots, bias = slot_contributions(model, rows)
    names = feature_slot_names(model)
    columns = [original_column(name, set(encoded_categories(model))) for name in names]
    frame = pd.DataFrame(slots, columns=names).T.groupby(columns, sort=False).sum().T
    frame[BIAS] = bias
    return frame


def mean_absolute(contributions_frame: pd.DataFrame) -> list[tuple[str, float]]:
    """Each column's mean |contribution| over the rows, largest first: a global importance in the
    margin's own units."""
    means = contributions_frame.drop(columns=BIAS).abs().mean()
    return sorted(means.items(), key=lambda pair: -pair[1])
