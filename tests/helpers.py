"""Builders shared by tests (importable because pytest.ini puts tests/ on the path)."""

from __future__ import annotations

from pathlib import Path

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
