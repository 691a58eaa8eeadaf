"""MLflow pieces every trainer shares: the run in its experiment, the report folder, the registry alias."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
import mlflow
from mlflow import MlflowClient
from sqlalchemy.engine import make_url

from lakeforge.config.models import PlatformConfig


@dataclass(frozen=True)
class TrackedRun:
    run_id: str
    model_name: str
    model_version: str
    alias: str
    report_path: str

    @property
    def model_uri(self) -> str:
        return f"models:/{self.model_name}@{self.alias}"


def artifact_location(tracking_uri: str) -> str | None:
    """A local sqlite backend keeps artifacts beside its database; servers choose their own.

    Read as SQLAlchemy reads it: sqlite:///.work/mlflow.db is relative to the working directory (a
    URL parser's path, /.work/mlflow.db, would put the artifacts at the filesystem root)."""
    if not tracking_uri.startswith("sqlite:"):
        return None
    return str(Path(make_url(tracking_uri).database).resolve().parent / "mlartifacts")


def experiment_id(name: str, tracking_uri: str) -> str:
    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    return mlflow.create_experiment(name, artifact_location=artifact_location(tracking_uri))


def use_tracking_uri(platform: PlatformConfig) -> str:
    """The platform's tracking URI, or MLFLOW_TRACKING_URI's when the config names none."""
    tracking_uri = platform.mlflow_tracking_uri or mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    return tracking_uri


@contextmanager
def tracked_run(platform: PlatformConfig, experiment: str, run_name: str) -> Iterator[mlflow.ActiveRun]:
    """A run in `experiment` on the platform's tracking URI."""
    tracking_uri = use_tracking_uri(platform)
    with mlflow.start_run(experiment_id=experiment_id(experiment, tracking_uri), run_name=run_name) as run:
        yield run


def log_report(write: Callable[[Path], object]) -> str:
    """`write(folder)` writes report.md and its files; they are logged under report/. Returns report.md's
    path (a local path for file artifact stores)."""
    with tempfile.TemporaryDirectory() as folder:
        write(Path(folder))
        mlflow.log_artifacts(folder, "report")
    return mlflow.get_artifact_uri("report/report.md").removeprefix("file://")


def set_alias(model_info, registered_model: str, alias: str) -> str:
    """Point `alias` at the version `log_model(registered_model_name=...)` just created; returns it."""
    version = str(model_info.registered_model_version)
    MlflowClient().set_registered_model_alias(registered_model, alias, version)
    return version
