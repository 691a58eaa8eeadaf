"""The preprocessing half of every model's Pipeline: raw columns in, one `features` vector out."""

from __future__ import annotations

import numpy as np
from pyspark.ml import Pipeline, PipelineModel, Transformer
from pyspark.ml.feature import (
    PCA,
    Imputer,
    MinMaxScaler,
    OneHotEncoder,
    SQLTransformer,
    StandardScaler,
    StringIndexer,
    UnivariateFeatureSelector,
    VectorAssembler,
)
from pyspark.sql import DataFrame

from lakeforge.training.columns import LABEL, ColumnRoles
from lakeforge.training.config import FeatureSpec
from lakeforge.training.derived import Derived, derived_sql

FEATURES = "features"


def typed_columns_sql(roles: ColumnRoles) -> str:
    """Raw values -> typed values inside the saved model, so scoring raw rows needs no outside cleaning.

    try_cast: " " and other non-numbers in a numeric column become null (imputed next), not an error.
    """
    numeric = [f"try_cast(`{c}` AS DOUBLE) AS `num__{c}`" for c in roles.numeric]
    categorical = [f"nullif(trim(cast(`{c}` AS STRING)), '') AS `cat__{c}`" for c in roles.categorical]
    return "SELECT *, " + ", ".join(numeric + categorical) + " FROM __THIS__"


def encoding_stages(roles: ColumnRoles, spec: FeatureSpec, derived: tuple[Derived, ...] = ()) -> list[Transformer]:
    """Typed columns, derived numbers, imputed numbers, one-hot categories (unseen and null -> all
    zeros), assembled."""
    stages: list = [SQLTransformer(statement=typed_columns_sql(roles))]
    if derived:
        stages.append(SQLTransformer(statement=derived_sql(derived)))
    numbers = [*roles.numeric, *(d.name for d in derived if not d.categorical)]
    categories = [*roles.categorical, *(d.name for d in derived if d.categorical)]
    assembled = []
    if numbers:
        imputed = [f"imp__{c}" for c in numbers]
        stages.append(Imputer(inputCols=[f"num__{c}" for c in numbers], outputCols=imputed, strategy=spec.impute))
        assembled += imputed
    if categories:
        indexed = [f"idx__{c}" for c in categories]
        encoded = [f"ohe__{c}" for c in categories]
        stages.append(StringIndexer(inputCols=[f"cat__{c}" for c in categories], outputCols=indexed, handleInvalid="keep"))
        # dropLast removes the extra "unseen" slot StringIndexer keeps, so an unseen value is all zeros.
        stages.append(OneHotEncoder(inputCols=indexed, outputCols=encoded, dropLast=True))
        assembled += encoded
    stages.append(VectorAssembler(inputCols=assembled, outputCol="assembled", handleInvalid="keep"))
    if spec.scaler == "standard":
        stages.append(StandardScaler(inputCol="assembled", outputCol="scaled", withMean=True, withStd=True))
    elif spec.scaler == "minmax":
        stages.append(MinMaxScaler(inputCol="assembled", outputCol="scaled"))
    return stages


def encoded_column(spec: FeatureSpec) -> str:
    return "assembled" if spec.scaler == "none" else "scaled"


def reduction_stages(spec: FeatureSpec, task: str, pca_k: int | None) -> list[Transformer]:
    """Optional PCA then optional univariate selection; the last stage writes `features`."""
    stages: list = []
    current = encoded_column(spec)
    if spec.pca is not None:
        if pca_k is None:
            raise ValueError("features.pca is configured but no k was chosen; call choose_pca_k first")
        stages.append(PCA(k=pca_k, inputCol=current, outputCol="pca"))
        current = "pca"
    if spec.selection is not None:
        stages.append(
            UnivariateFeatureSelector(featuresCol=current, outputCol="selected", labelCol=LABEL, selectionMode=spec.selection.mode)
            .setFeatureType("continuous")
            .setLabelType("categorical" if task == "classification" else "continuous")
            .setSelectionThreshold(spec.selection.threshold)
        )
        current = "selected"
    stages.append(SQLTransformer(statement=f"SELECT *, `{current}` AS {FEATURES} FROM __THIS__"))
    return stages


def preprocessing_stages(
    roles: ColumnRoles, spec: FeatureSpec, task: str, pca_k: int | None, derived: tuple[Derived, ...] = ()
) -> list[Transformer]:
    return encoding_stages(roles, spec, derived) + reduction_stages(spec, task, pca_k)


def components_for_variance(explained_variance: np.ndarray, target: float) -> int:
    """The fewest leading components whose explained variance adds up to the target."""
    cumulative = np.cumsum(explained_variance)
    return int(min(np.searchsorted(cumulative, target - 1e-12) + 1, len(explained_variance)))


def choose_pca_k(train: DataFrame, roles: ColumnRoles, spec: FeatureSpec, derived: tuple[Derived, ...] = ()) -> tuple[int, int]:
    """(k, input dimension): fit encoding + a full PCA on the training rows and read the variance curve."""
    if spec.pca is None:
        raise ValueError("features.pca is not configured")
    encoded = Pipeline(stages=encoding_stages(roles, spec, derived)).fit(train).transform(train)
    column = encoded_column(spec)
    dimension = len(encoded.select(column).first()[0])
    full = PCA(k=dimension, inputCol=column, outputCol="pca").fit(encoded)
    return components_for_variance(full.explainedVariance.toArray(), spec.pca.explained_variance), dimension


def stage_named(model: PipelineModel, name: str) -> Transformer | None:
    return next((stage for stage in model.stages if type(stage).__name__ == name), None)


def encoded_categories(model: PipelineModel) -> list[str]:
    """The columns one-hot encoded: text columns, then derived buckets."""
    indexer = stage_named(model, "StringIndexerModel")
    return [column.removeprefix("cat__") for column in indexer.getInputCols()] if indexer else []


def feature_slot_names(model: PipelineModel) -> list[str]:
    """Names of the encoded vector's slots: numeric columns and derived numbers (as the imputer has
    them), then `column=category` per kept category of each encoded column."""
    indexer, imputer = stage_named(model, "StringIndexerModel"), stage_named(model, "ImputerModel")
    names = [column.removeprefix("imp__") for column in imputer.getOutputCols()] if imputer else []
    for column, labels in zip(encoded_categories(model), indexer.labelsArray if indexer else []):
        names += [f"{column}={label}" for label in labels]
    return names
