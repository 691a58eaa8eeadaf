"""The training notebooks end to end on generated data: every model beats the baseline by a stated
margin, CV returns one result per fold, and the registered challenger loads back and scores raw rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient

from lakeforge.notebooks import run_notebook
from lakeforge.training.features import stage_named

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
FOLDS = 3  # as in conftest's configs


@pytest.fixture
def notebook_env(monkeypatch, training_conf):
    monkeypatch.setenv("LAKEFORGE_ENV", "test")

    def run(name: str, conf: str) -> dict:
        monkeypatch.setenv("LAKEFORGE_TRAIN_CONF", str(training_conf / conf))
        return run_notebook(NOTEBOOKS / name)

    return run


def assert_selected_by_the_reported_metric(candidate, metric: str) -> None:
    """CrossValidator's score for the chosen params is the mean of the per-fold metric reported."""
    chosen = next(g for g in candidate.grid if all(g[k] == v for k, v in candidate.best_params.items()))
    assert chosen["mean"] == pytest.approx(candidate.cv[metric]["mean"], abs=1e-9), candidate.name


def assert_registered(namespace: dict) -> None:
    tracked, config = namespace["tracked"], namespace["config"]
    version = MlflowClient().get_model_version_by_alias(config.tracking.registered_model, "challenger")
    assert str(version.version) == tracked.model_version and version.run_id == tracked.run_id
    assert Path(tracked.report_path).is_file() and "## Models" in Path(tracked.report_path).read_text()


def test_churn_notebook_beats_the_majority_baseline_and_registers_the_challenger(notebook_env):
    namespace = notebook_env("03_churn_model.py", "churn.yml")
    result = namespace["result"]
    assert {c.name for c in result.candidates} == {"logistic_regression", "random_forest", "gbt", "xgboost"}
    for candidate in result.candidates:
        assert len(candidate.folds) == FOLDS and len(candidate.oof_label) == result.train_rows
        # Majority-class baseline: ROC-AUC 0.5, churn-class F1 0. Margins: +0.2 AUC, F1 >= 0.5.
        assert candidate.test["roc_auc"] >= result.baseline["roc_auc"] + 0.2, candidate.name
        assert candidate.test["f1"] >= 0.5 > result.baseline["f1"], candidate.name
        assert_selected_by_the_reported_metric(candidate, "roc_auc")
    assert len(next(c for c in result.candidates if c.name == "logistic_regression").grid) == 2  # regParam grid
    assert stage_named(result.best.model, "UnivariateFeatureSelectorModel") is not None
    assert_registered(namespace)
    scored = namespace["scored"]
    assert len(scored) == 5 and set(np.unique(scored["prediction"])) <= {0.0, 1.0}


def test_housing_notebook_beats_the_mean_baseline(notebook_env):
    namespace = notebook_env("04_housing_cv.py", "housing.yml")
    result = namespace["result"]
    assert len(namespace["folds"]) == FOLDS * len(result.candidates)
    assert result.data.pca_k < result.data.pca_input_dimension
    assert stage_named(result.best.model, "PCAModel").getK() == result.data.pca_k
    for candidate in result.candidates:
        # Mean baseline: R2 0. Margin: RMSE at most 70% of the baseline's, R2 >= 0.5.
        assert candidate.test["rmse"] <= 0.7 * result.baseline["rmse"], candidate.name
        assert candidate.test["r2"] >= 0.5 and candidate.cv["r2"]["mean"] >= 0.5, candidate.name
        assert_selected_by_the_reported_metric(candidate, "rmse")
    assert_registered(namespace)
