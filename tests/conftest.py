"""Shared fixtures: one local SparkSession per test run (it takes ~6 s to start)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from aws_stack import aws_emulator, aws_stack  # noqa: F401  (fixtures)

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


def load_service_env() -> None:
    """Export the private services' settings if the caller did not (make test sources them itself)."""
    for env_file in (WORK / "services/postgres/credentials.env", WORK / "services/api_token.env"):
        if not env_file.exists():
            continue
        for line in env_file.read_text().split():
            if "=" in line and not line.startswith("export"):
                key, value = line.split("=", 1)
                os.environ.setdefault(key, value)


@pytest.fixture(scope="session")
def pg_conninfo() -> str:
    """DSN of the real PostgreSQL started by scripts/services/postgres.sh (make services-up)."""
    from lakeforge.demo.seed_postgres import conninfo_from_env

    load_service_env()
    try:
        return conninfo_from_env()
    except KeyError as missing:
        pytest.fail(f"{missing}: start PostgreSQL with `make services-up` (or run `make test`)")
