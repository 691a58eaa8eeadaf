"""Shared fixtures: one local SparkSession per test run (it takes ~6 s to start)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(os.environ.get("LAKEFORGE_WORK", ROOT / ".work"))


@pytest.fixture(scope="session")
def spark():
    from lakeforge.config.models import SparkSettings
    from lakeforge.spark import build_spark

    session = build_spark(
        SparkSettings(
            master="local[2]",
            app_name="lakeforge-tests",
            shuffle_partitions=2,
            driver_memory="4g",
            jars_dir=str(WORK / "jars"),
            progress_bar=False,
            log_level="ERROR",
        )
    )
    yield session
    session.stop()
