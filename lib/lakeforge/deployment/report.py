"""The validation report logged to MLflow: every check with its numbers, both models' metrics."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import mlflow

from lakeforge.config.models import PlatformConfig
from lakeforge.deployment.evaluation import Evaluation
from lakeforge.deployment.validation import Verdict
from lakeforge.tracking import log_report, tracked_run


def markdown(model_name: str, evaluation: Evaluation, verdict: Verdict) -> str:
    champion = evaluation.champion
    lines = [
        f"# Validation of {model_name} version {evaluation.challenger.version}",
        "",
        f"Champion: {f'version {champion.version}' if champion else 'none (absolute thresholds only)'}. "
        f"Evaluation rows: {evaluation.profile.rows}. Result: **{'passed' if verdict.passed else 'refused'}**.",
        "",
        "| check | result | detail |",
        "|---|---|---|",
        *[f"| {c.name} | {'pass' if c.passed else 'FAIL'} | {c.detail} |" for c in verdict.checks],
        "",
        "| metric | challenger | champion |",
        "|---|---|---|",
        *[f"| {name} | {value:.4f} | {champion.metrics.get(name, float('nan')):.4f} |" if champion else f"| {name} | {value:.4f} | |"
          for name, value in sorted(evaluation.challenger.metrics.items())],
    ]
    return "\n".join(lines) + "\n"


def write_report(model_name: str, evaluation: Evaluation, verdict: Verdict, folder: Path) -> None:
    (folder / "report.md").write_text(markdown(model_name, evaluation, verdict))
    document = {"passed": verdict.passed, "reasons": verdict.reasons, "checks": [asdict(c) for c in verdict.checks],
                "challenger": asdict(evaluation.challenger), "champion": asdict(evaluation.champion) if evaluation.champion else None,
                "data": asdict(evaluation.profile)}
    (folder / "validation.json").write_text(json.dumps(document, indent=2, default=str))


def log_validation(platform: PlatformConfig, experiment: str, model_name: str, evaluation: Evaluation, verdict: Verdict) -> str:
    """One MLflow run per validation; returns its id."""
    challenger, champion = evaluation.challenger, evaluation.champion
    with tracked_run(platform, experiment, f"validate {model_name} v{challenger.version}") as run:
        mlflow.log_params({"model": model_name, "challenger_version": challenger.version,
                           "champion_version": champion.version if champion else None, "passed": verdict.passed})
        mlflow.log_metrics({f"challenger_{k}": v for k, v in challenger.metrics.items()})
        if champion:
            mlflow.log_metrics({f"champion_{k}": v for k, v in champion.metrics.items()})
        mlflow.log_metrics({"evaluation_rows": evaluation.profile.rows, "challenger_size_mb": challenger.size_mb,
                            "challenger_scoring_seconds": challenger.scoring_seconds})
        mlflow.set_tag("lakeforge.validation", "passed" if verdict.passed else "refused")
        log_report(lambda folder: write_report(model_name, evaluation, verdict, folder))
    return run.info.run_id
