"""The demo end to end: built-in data in the four sources, then the customer-360 pipeline."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

from pyspark.sql import SparkSession

from lakeforge.config.models import PipelineConfig, read_secret
from lakeforge.demo.api_server import start_api_server
from lakeforge.demo.generate import generate_demo
from lakeforge.demo.seed_postgres import conninfo_from_env, load_billing
from lakeforge.pipelines.runner import PipelineRunner
from lakeforge.tables.audit import Run
from lakeforge.tables.catalog import list_tables
from lakeforge.tables.layout import Lakehouse


def ensure_demo_data(config: PipelineConfig, seed_dir: Path, customers: int, seed: int) -> None:
    """Generate once: a second demo run finds the data and ingests nothing new."""
    if not (seed_dir / "manifest.json").exists():
        generate_demo(Path(config.platform.storage.landing), seed_dir, customers=customers, seed=seed)
    load_billing(conninfo_from_env(), seed_dir / "billing.jsonl", table=config.sources["billing"].table)


def run_demo(spark: SparkSession, config: PipelineConfig, seed_dir: Path, customers: int = 2000, seed: int = 7) -> tuple[Run, list[dict]]:
    ensure_demo_data(config, seed_dir, customers, seed)
    tickets_source = config.sources["tickets"]
    tickets = json.loads((seed_dir / "tickets.json").read_text())
    port = urlparse(tickets_source.url).port
    with start_api_server(tickets, token=read_secret(tickets_source.token_env), port=port):
        run = PipelineRunner(spark, config).execute()
    return run, list_tables(spark, Lakehouse(config.platform.storage.root))
