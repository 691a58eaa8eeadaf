"""MLflow: one run per training, the serving artifact logged inside a pyfunc model, registered with an alias."""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from lakeforge.recommendations.artifact import FactorModel, find_artifact
from lakeforge.recommendations.recommend import recommend
from lakeforge.recommendations.train import RecsResult
from lakeforge.tracking import TrackedRun, set_alias, tracked_run

ARTIFACT_KEY = "serving"


class FactorRecommender(mlflow.pyfunc.PythonModel):
    """pyfunc face of the artifact: rows of (user_id, k) -> item ids, best first. The service reads the
    numpy files directly; this makes the registered model usable from any MLflow client too."""

    def load_context(self, context) -> None:
        self.model = FactorModel.load(find_artifact(context.artifacts[ARTIFACT_KEY]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.Series:
        ks = model_input["k"] if "k" in model_input else pd.Series(10, index=model_input.index)
        return pd.Series([recommend(self.model, int(user), int(k)).item_ids for user, k in zip(model_input["user_id"], ks)], index=model_input.index)


def pip_requirements() -> list[str]:
    """Pinned explicitly: letting MLflow infer them starts a fresh interpreter."""
    return [f"mlflow=={mlflow.__version__}", f"numpy=={np.__version__}", f"pandas=={pd.__version__}"]


def log_recommender(result: RecsResult) -> TrackedRun:
    """Log params, grid, test and baseline metrics and the artifact; register it under the config's alias."""
    config = result.config
    with tracked_run(config.platform, config.tracking.experiment, config.name) as run:
        mlflow.log_params({"mode": config.als.mode, "max_iter": config.als.max_iter, "k": config.evaluation.k, **{f"best.{k}": v for k, v in result.params.items()}})
        mlflow.log_params({f"weight.{name}": weight for name, weight in config.als.event_weights.items()})
        for step, point in enumerate(result.grid):
            mlflow.log_metrics({name: float(value) for name, value in point.items()}, step=step)
        mlflow.log_metrics({f"test_{name}": value for name, value in result.test.items()})
        mlflow.log_metrics({f"baseline_{name}": value for name, value in result.baseline.items()})
        mlflow.log_metrics({**{f"rows_{name}": value for name, value in result.counts.items()}, **{f"seconds_{n}": s for n, s in result.seconds.items()}})
        with tempfile.TemporaryDirectory() as folder:
            artifact = result.model.save(Path(folder) / ARTIFACT_KEY)
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=FactorRecommender(),
                artifacts={ARTIFACT_KEY: str(artifact)},
                registered_model_name=config.tracking.registered_model,
                pip_requirements=pip_requirements(),
            )
        version = set_alias(info, config.tracking.registered_model, config.tracking.alias)
    return TrackedRun(run_id=run.info.run_id, model_name=config.tracking.registered_model, model_version=version, alias=config.tracking.alias, report_path="")
