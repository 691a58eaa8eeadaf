"""Training config: what data, which features, how to validate, which models, where to track."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from lakeforge.config.models import PlatformConfig, StrictModel


class DataSpec(StrictModel):
    # None: the gold table named by gold_table, under storage.root.
    path: str | None = None
    format: Literal["csv", "parquet", "delta"] | None = None  # None: from the path
    gold_table: str = "customer_360"
    label: str
    # Classification only: the label value that means "positive" (e.g. "Churned"); default: the usual
    # yes / true / 1 spellings.
    positive_label: str | None = None
    categorical: list[str] = Field(default_factory=list)  # forced categorical (otherwise detected)
    numeric: list[str] = Field(default_factory=list)  # forced numeric (otherwise detected)
    exclude: list[str] = Field(default_factory=list)
    # A text column with more distinct values than this is not used as a category.
    max_categories: int = Field(default=100, ge=2)
    csv_options: dict[str, str] = Field(default_factory=lambda: {"header": "true"})


class PcaSpec(StrictModel):
    # Keep the fewest principal components that explain this share of the variance.
    explained_variance: float = Field(gt=0, le=1)


class SelectionSpec(StrictModel):
    """UnivariateFeatureSelector: F-test (ANOVA for classification, F-regression for regression)."""

    mode: Literal["numTopFeatures", "percentile", "fpr", "fdr", "fwe"] = "percentile"
    threshold: float = 0.8


class GeoSpec(StrictModel):
    """Similarity to clusters of the training rows' locations: on when both columns are numeric features."""

    latitude: str = "latitude"
    longitude: str = "longitude"
    clusters: int = Field(default=10, ge=0)  # 0: off
    gamma: float = Field(default=1.0, gt=0)  # similarity exp(-gamma * squared distance in degrees)


class DerivedSpec(StrictModel):
    # name -> [numerator, denominator], e.g. rooms_per_household: [total_rooms, households]
    ratios: dict[str, tuple[str, str]] = Field(default_factory=dict)
    # name -> [left, right]: the product left * right, an interaction linear models cannot form
    interactions: dict[str, tuple[str, str]] = Field(default_factory=dict)
    # column -> a number of buckets of equal training counts, or the inner edges themselves; one-hot
    # encoded as `<column>_bucket`, beside the column
    buckets: dict[str, Annotated[int, Field(ge=2)] | Annotated[list[float], Field(min_length=1)]] = Field(default_factory=dict)
    # "auto": every numeric column with no negatives whose skewness exceeds skew_threshold; or a list
    log1p: Literal["auto"] | list[str] = "auto"
    # 0.75: the usual cut for a long right tail (Telco's TotalCharges, 0.96, is one; LR gains 0.005 ROC-AUC)
    skew_threshold: float = Field(default=0.75, gt=0)
    geo: GeoSpec = Field(default_factory=GeoSpec)


class FeatureSpec(StrictModel):
    impute: Literal["mean", "median", "mode"] = "median"
    scaler: Literal["standard", "minmax", "none"] = "standard"
    # Added beside the raw columns, planned on the training rows (lakeforge.training.derived).
    derived: DerivedSpec = Field(default_factory=DerivedSpec)
    pca: PcaSpec | None = None
    selection: SelectionSpec | None = None


class ThresholdSpec(StrictModel):
    # max_f1: the cut that maximises the positive class's F1 on out-of-fold predictions;
    # cost: the cut that minimises false_negative_cost * FN + FP (cost of a false positive = 1).
    strategy: Literal["max_f1", "cost", "none"] = "max_f1"
    false_negative_cost: float = Field(default=5.0, gt=0)


class HalvingSpec(StrictModel):
    """Successive halving of each model's grid: every param map on the first `folds` folds, then only
    the best 1/`factor` of them (at least one) on the rest, so a wide grid costs little more than its
    survivors."""

    folds: int = Field(default=1, ge=1)
    factor: int = Field(default=3, ge=2)


class ValidationSpec(StrictModel):
    test_fraction: float = Field(default=0.2, gt=0, lt=1)
    folds: int = Field(default=5, ge=2)
    seed: int = 42
    parallelism: int = Field(default=2, ge=1)  # fits run at once, across folds and param maps
    class_weights: bool = False  # classification: weightCol with balanced class weights
    sampling: Literal["none", "over", "under"] = "none"  # classification: training folds only
    threshold: ThresholdSpec = Field(default_factory=ThresholdSpec)
    halving: HalvingSpec | None = None  # None: every param map on every fold

    @model_validator(mode="after")
    def _halving_leaves_folds(self) -> ValidationSpec:
        if self.halving is not None and self.halving.folds >= self.folds:
            raise ValueError(f"validation.halving.folds ({self.halving.folds}) must be fewer than validation.folds ({self.folds})")
        return self


BOOSTING = ("gbt", "xgboost")


class ModelSpec(StrictModel):
    """One candidate: an estimator kind, fixed params and a grid (param -> values) to search."""

    kind: Literal["logistic_regression", "random_forest", "gbt", "xgboost", "linear_regression"]
    params: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    # gbt and xgboost: this share of each fit's training rows is held out to stop on (maxIter or
    # n_estimators becomes a cap; gbt's params.validationTol sets how small a gain stops it, xgboost's
    # params.early_stopping_rounds after how many rounds without one, 20 unless set). None: every tree.
    early_stopping: float | None = Field(default=None, gt=0, lt=0.5)

    @model_validator(mode="after")
    def _early_stopping_for_gbt(self) -> ModelSpec:
        if self.early_stopping is not None and self.kind not in BOOSTING:
            raise ValueError(f"early_stopping applies to kinds {' and '.join(BOOSTING)}, not {self.kind!r}")
        return self


class TrackingSpec(StrictModel):
    experiment: str
    registered_model: str
    alias: str = "challenger"


class TrainingConfig(StrictModel):
    name: str
    task: Literal["classification", "regression"]
    platform: PlatformConfig
    data: DataSpec
    features: FeatureSpec = Field(default_factory=FeatureSpec)
    validation: ValidationSpec = Field(default_factory=ValidationSpec)
    models: dict[str, ModelSpec]
    tracking: TrackingSpec

    @model_validator(mode="after")
    def _consistent(self) -> TrainingConfig:
        if not self.models:
            raise ValueError("models: at least one candidate model is required")
        if self.validation.class_weights and self.validation.sampling != "none":
            raise ValueError(
                f"validation: class_weights and sampling={self.validation.sampling!r} both rebalance classes; choose one"
            )
        if self.task == "regression":
            if self.validation.class_weights or self.validation.sampling != "none":
                raise ValueError("validation: class_weights and sampling apply to classification only")
            wrong = {name: spec.kind for name, spec in self.models.items() if spec.kind == "logistic_regression"}
        else:
            wrong = {name: spec.kind for name, spec in self.models.items() if spec.kind == "linear_regression"}
        if wrong:
            raise ValueError(f"models {wrong} do not fit task {self.task!r}")
        return self

    def with_data(self, path: str | None = None, label: str | None = None) -> TrainingConfig:
        """The same config pointed at other data (command-line --data / --label)."""
        update: dict[str, Any] = {}
        if path is not None:
            update.update(path=path, format=None)
        if label is not None:
            update["label"] = label
        return self.model_copy(update={"data": self.data.model_copy(update=update)})
