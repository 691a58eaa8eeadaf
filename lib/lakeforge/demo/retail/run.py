"""The retail example end to end: its data in the three sources, then its pipeline."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import SparkSession

from lakeforge.config.models import PipelineConfig
from lakeforge.demo.retail.data import RetailData, generate_retail_data, load_products, publish_events, write_orders
from lakeforge.pipelines.runner import PipelineRunner
from lakeforge.tables.audit import Run


def deliver(config: PipelineConfig, data: RetailData) -> None:
    """Put the data where the pipeline's sources read it."""
    write_orders(Path(config.platform.storage.landing) / config.sources["orders"].path, data.orders)
    load_products(config.sources["products"], data.products)
    publish_events(config.sources["order_events"], data.events)


def run_retail(spark: SparkSession, config: PipelineConfig, seed_dir: Path, orders: int = 300, seed: int = 7) -> Run:
    """Generate and deliver the data once (a second run finds it and ingests nothing new), then run."""
    marker = seed_dir / "retail.json"
    if not marker.exists():
        data = generate_retail_data(orders=orders, seed=seed)
        deliver(config, data)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(data.to_json())
    return PipelineRunner(spark, config).execute()
