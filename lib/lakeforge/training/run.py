"""Train, report, track: what `lakeforge train`, the jobs and the notebooks call."""

from __future__ import annotations

import json
import time

from pyspark.sql import SparkSession

from lakeforge.training.config import TrainingConfig
from lakeforge.training.report import comparison_table, summary
from lakeforge.tracking import TrackedRun
from lakeforge.training.tracking import log_training
from lakeforge.training.train import TrainingResult, train_models


def train_and_track(spark: SparkSession, config: TrainingConfig) -> tuple[TrainingResult, TrackedRun]:
    result = train_models(spark, config)
    started = time.perf_counter()
    tracked = log_training(result)
    result.seconds["mlflow"] = time.perf_counter() - started
    return result, tracked


def print_result(result: TrainingResult, tracked: TrackedRun, as_json: bool) -> None:
    if as_json:
        print(json.dumps({**summary(result), "mlflow": {"run_id": tracked.run_id, "model_uri": tracked.model_uri,
                                                         "version": tracked.model_version, "report": tracked.report_path}}, indent=2, default=str))
        return
    print(f"\n{result.config.name}: {result.train_rows} train / {result.test_rows} test rows from {result.data.identity.path} ({result.data.identity.version})")
    print(comparison_table(result))
    print(f"\nbest: {result.best.name} {result.best.best_params}; registered {tracked.model_uri} (version {tracked.model_version})")
    print(f"report: {tracked.report_path}")
    print("seconds: " + ", ".join(f"{phase} {seconds:.1f}" for phase, seconds in result.seconds.items()))
