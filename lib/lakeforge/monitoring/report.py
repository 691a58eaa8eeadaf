"""`lakeforge monitor report`: an HTML page with the latest window's distributions against training,
drift and quality over time, logged to MLflow (experiment `<config name>`)."""

from __future__ import annotations

import base64
import html
import io
import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from matplotlib.figure import Figure
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakeforge.errors import LakeforgeError
from lakeforge.monitoring.baseline import load_profile
from lakeforge.monitoring.config import MonitoringConfig
from lakeforge.monitoring.paths import MonitorPaths
from lakeforge.monitoring.report_plots import distribution_figure, over_time_figure
from lakeforge.monitoring.windows import in_windows, typed_features
from lakeforge.tables import delta
from lakeforge.tables.inference import INFERENCE_SCHEMA, read_table
from lakeforge.tracking import tracked_run, use_tracking_uri

SAMPLE_ROWS = 50_000  # of the latest window, for its distributions


def embedded(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    figure.clf()
    return f'<img src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def table_pandas(spark: SparkSession, path: str) -> pd.DataFrame:
    return spark.read.format("delta").load(path).toPandas() if delta.exists(spark, path) else pd.DataFrame()


def distribution_section(spark: SparkSession, config: MonitoringConfig, paths: MonitorPaths) -> list[str]:
    """The newest window of the newest model version against that version's training profile."""
    log = read_table(spark, paths.inferences, INFERENCE_SCHEMA).where(F.col("model_name") == config.model.registered_model)
    latest = log.orderBy(F.desc("scored_at")).select("model_version").first()
    if latest is None:
        raise LakeforgeError(f"the inference log {paths.inferences} has no rows of {config.model.registered_model}: score some first (lakeforge monitor score)")
    version = latest["model_version"]
    profile = load_profile(config.model.registered_model, version)
    windowed = log.where(F.col("model_version") == version).transform(in_windows(config.window))
    newest = windowed.agg(F.max("window_start")).first()[0]
    sample = windowed.where(F.col("window_start") == newest).transform(typed_features(profile)).limit(SAMPLE_ROWS).toPandas()
    label = f"window {newest:%Y-%m-%d %H:%M}"
    parts = [f"<h2>Distributions: version {html.escape(version)}, {label} against training</h2>"]
    return parts + [embedded(distribution_figure(feature, sample[name], label)) for name, feature in profile.features.items()]


def over_time_section(spark: SparkSession, paths: MonitorPaths) -> list[str]:
    drift, quality = table_pandas(spark, paths.drift), table_pandas(spark, paths.quality)
    parts = ["<h2>Drift over time</h2>"]
    if not drift.empty:
        parts += [embedded(over_time_figure(drift, [metric], "feature", f"{metric} per feature")) for metric in ("psi", "ks", "js") if drift[metric].notna().any()]
    parts.append("<h2>Quality over time</h2>")
    if quality.empty:
        return [*parts, "<p>No labels have arrived yet.</p>"]
    metrics = [m for m in ("roc_auc", "f1", "precision", "recall", "rmse", "mae") if m in quality.columns]
    return [*parts, embedded(over_time_figure(quality, metrics, "model_version", "quality per model version")),
            quality.sort_values("window_start").to_html(index=False, float_format="%.4f")]


def write_report(spark: SparkSession, config: MonitoringConfig, folder: Path) -> Path:
    paths = MonitorPaths.of(config)
    body = [f"<h1>Monitoring: {html.escape(config.model.registered_model)}</h1>",
            *distribution_section(spark, config, paths), *over_time_section(spark, paths)]
    path = folder / "report.html"
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(config.name)}</title></head><body>{''.join(body)}</body></html>")
    return path


def write_and_log_report(spark: SparkSession, config: MonitoringConfig, out: str | None = None) -> str:
    """Writes report.html into `out` (or a temporary folder) and logs it; returns the logged file's URI."""
    use_tracking_uri(config.platform)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(out or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        write_report(spark, config, folder)
        with tracked_run(config.platform, config.name, "monitoring-report"):
            mlflow.log_artifact(str(folder / "report.html"), "monitoring")
            return mlflow.get_artifact_uri("monitoring/report.html")
