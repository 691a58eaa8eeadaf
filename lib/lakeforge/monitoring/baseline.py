"""The training profile of a registered model version: the baseline its inputs are compared with."""

from __future__ import annotations

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from lakeforge.errors import LakeforgeError
from lakeforge.quality.profile import PROFILE_ARTIFACT, TrainingProfile


def load_profile(model_name: str, version: str) -> TrainingProfile:
    run_id = MlflowClient().get_model_version(model_name, version).run_id
    try:
        data = mlflow.artifacts.load_dict(f"runs:/{run_id}/{PROFILE_ARTIFACT}")
    except (MlflowException, OSError) as missing:
        raise LakeforgeError(f"{model_name} version {version} (run {run_id}) has no {PROFILE_ARTIFACT}: it was trained before "
                             f"profiles were saved; retrain it (lakeforge train) to monitor its drift ({missing})") from None
    return TrainingProfile.from_dict(data)
