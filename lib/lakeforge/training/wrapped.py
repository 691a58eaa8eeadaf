"""An estimator that wraps another and fits it on rows of its own making (sampled, marked), so the
change happens inside fit: cross-validation hands it only training folds."""

from __future__ import annotations

from pyspark.ml import Estimator


class WrappedEstimator(Estimator):
    """fit() returns the inner estimator's own model, so the pipeline saves and scores as usual."""

    def __init__(self, inner: Estimator) -> None:
        super().__init__()
        self.inner = inner

    def copy(self, extra=None) -> WrappedEstimator:
        # CrossValidator's param maps name the inner estimator's params: hand them to the wrapped copy.
        that = super().copy(extra)
        that.inner = self.inner.copy(extra)
        return that
