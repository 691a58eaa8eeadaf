"""Builders shared by tests (importable because pytest.ini puts tests/ on the path)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from lakeforge.config.loader import load_model
from lakeforge.config.models import PipelineConfig


def one_source_pipeline(tmp_path: Path, name: str, source: dict, silver: dict) -> PipelineConfig:
    """A pipeline of one source and its silver table, with its lakehouse (lake/) and landing (in/) under tmp_path."""
    data = {
        "name": name,
        "platform": {"storage": {"root": str(tmp_path / "lake"), "landing": str(tmp_path / "in")}},
        "sources": {name: source},
        "silver": {name: {"source": name, **silver}},
    }
    return load_model(PipelineConfig, data, origin=f"test pipeline {name}")


def write_test_overlay(conf: Path, root: Path) -> None:
    """conf/env/test.yml: Spark on 2 local cores (the session fixture's), lakehouse, landing and MLflow
    (sqlite and artifacts) under root."""
    overlay = {
        "platform": {
            "spark": {"master": "local[2]", "shuffle_partitions": 2, "jars_dir": None, "progress_bar": False, "log_level": "ERROR"},
            "storage": {"root": str(root / "lakehouse"), "landing": str(root / "landing")},
            "mlflow_tracking_uri": f"sqlite:///{root}/mlflow.db",
        }
    }
    (conf / "env").mkdir(parents=True, exist_ok=True)
    (conf / "env/test.yml").write_text(yaml.safe_dump(overlay, sort_keys=False))


def file_statistics(table: str | Path) -> list[dict]:
    """The stats of every file a Delta table's log added, read from the log's JSON, not through Delta."""
    stats = []
    for commit in sorted(Path(table, "_delta_log").glob("*.json")):
        for line in commit.read_text().splitlines():
            add = json.loads(line).get("add")
            if add and add.get("stats"):
                stats.append(json.loads(add["stats"]))
    return stats
