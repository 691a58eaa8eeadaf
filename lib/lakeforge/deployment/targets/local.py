"""Local target: batch scoring jobs and the serving API read `models:/NAME@champion`, so moving the alias
is the deployment; the smoke test loads the model through that same URI."""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
from pyspark.sql import SparkSession

from lakeforge.deployment.config import SmokeCase
from lakeforge.deployment.evaluation import load_model_folder
from lakeforge.deployment.registry import CHAMPION, ModelRegistry
from lakeforge.deployment.smoke import smoke_failures


def champion_uri(model_name: str) -> str:
    return f"models:/{model_name}@{CHAMPION}"


class LocalTarget:
    name = "local"

    def __init__(self, spark: SparkSession, model_name: str):
        self.spark, self.model_name = spark, model_name

    def deploy(self, version: str) -> dict[str, str]:
        return {"model_uri": champion_uri(self.model_name), "version": version}

    def smoke_test(self, version: str, cases: list[SmokeCase]) -> list[str]:
        serving = ModelRegistry(self.model_name).version_of(CHAMPION)
        if serving != version:
            return [f"{champion_uri(self.model_name)} resolves to version {serving}, expected {version}"]
        with tempfile.TemporaryDirectory() as folder:
            path = mlflow.artifacts.download_artifacts(artifact_uri=champion_uri(self.model_name), dst_path=folder)
            return smoke_failures(self.spark, load_model_folder(version, Path(path)), cases)

    def withdraw(self) -> None:
        """Nothing runs on its own: with no champion alias, scoring jobs refuse to start."""
