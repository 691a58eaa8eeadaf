"""Run a pipeline config: every source to bronze and silver, then gold, recording the audit."""

from __future__ import annotations

import os

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.config.models import FileSource, JdbcSource, KafkaSource, PipelineConfig, RestSource, SilverTable, read_secret
from lakeforge.ingestion import files, jdbc, kafka
from lakeforge.ingestion.rest import RestClient
from lakeforge.ingestion.rest_pages import explode_records, pages_frame
from lakeforge.pipelines.gold import build_gold_tables
from lakeforge.pipelines.medallion import refine_to_silver, with_bronze_metadata
from lakeforge.quality.expectations import ValidationReport
from lakeforge.quality.validations import record_validations
from lakeforge.tables import delta
from lakeforge.tables.audit import LayerCounts, Run, discard_uncommitted_runs, record_run
from lakeforge.tables.layout import Lakehouse
from lakeforge.tables.watermarks import advance_watermark, read_watermark


class PipelineRunner:
    """Holds what every step needs (session, config, lakehouse, the run being audited)."""

    def __init__(self, spark: SparkSession, config: PipelineConfig):
        self.spark = spark
        self.config = config
        self.lakehouse = Lakehouse(config.platform.storage.root)
        self.run = Run(job=config.name)
        self.validations: list[ValidationReport] = []

    def execute(self, sources: list[str] | None = None) -> Run:
        """Ingest the named sources (default all, then rebuild gold) and append the audit rows."""
        try:
            for name in sources or list(self.config.sources):
                self.ingest(name)
            if self.config.gold and sources is None:
                self.build_gold()
        except Exception as error:
            self.finish(error)
            raise
        self.finish()
        return self.run

    def finish(self, error: Exception | None = None) -> None:
        """Write the run's validation results and audit rows (the audit check may raise)."""
        record_validations(self.spark, self.lakehouse, self.run.run_id, self.validations)
        record_run(self.spark, self.lakehouse, self.run, error)

    def ingest(self, name: str) -> None:
        source = self.config.sources[name]
        if isinstance(source, (FileSource, KafkaSource)):
            self.ingest_micro_batches(name, source)
        elif isinstance(source, JdbcSource):
            self.ingest_jdbc(name, source)
        elif isinstance(source, RestSource):
            self.ingest_rest(name, source)

    def silver_specs(self, source: str) -> dict[str, SilverTable]:
        return {table: spec for table, spec in self.config.silver.items() if spec.source == source}

    def land(self, name: str, raw: DataFrame, batch_id: int | None = None) -> DataFrame:
        """Append raw rows (with their _source_ref) to bronze; returns them persisted, for silver to
        refine without reading the source again."""
        bronze = raw.transform(with_bronze_metadata(name, self.run.run_id)).persist(StorageLevel.MEMORY_AND_DISK)
        rows = bronze.count()
        app_id = f"{name}:bronze" if batch_id is not None else None
        delta.append(bronze, self.lakehouse.bronze(name), app_id=app_id, version=batch_id)
        counts = LayerCounts(source=name, layer="bronze", read=rows, written=rows)
        self.run.layer(name, "bronze").add(counts)
        return bronze

    def refine(self, name: str, bronze: DataFrame, batch_id: int | None = None) -> None:
        for table, spec in self.silver_specs(name).items():
            counts = refine_to_silver(self.spark, bronze, table, spec, self.lakehouse, self.validations.append, batch_id)
            self.run.layer(table, "silver").add(counts)

    def ingest_micro_batches(self, name: str, source: FileSource | KafkaSource) -> None:
        """New files or Kafka records, a micro-batch at a time: each lands, refines and commits with its
        batch in the streaming checkpoint."""

        def process_batch(batch: DataFrame, batch_id: int) -> None:
            bronze = self.land(name, batch, batch_id)
            try:
                self.refine(name, bronze, batch_id)
            finally:
                bronze.unpersist()

        self.run.layer(name, "bronze")
        if isinstance(source, KafkaSource):
            kafka.ingest_new_records(self.spark, source, self.lakehouse.checkpoint(name, "kafka"), process_batch)
        else:
            directory = os.path.join(self.config.platform.storage.landing, source.path)
            files.ingest_new_files(self.spark, source, directory, self.lakehouse.checkpoint(name, "files"), process_batch)

    def ingest_jdbc(self, name: str, source: JdbcSource) -> None:
        low = read_watermark(self.spark, self.lakehouse, name) if source.watermark_column else None
        plan = jdbc.plan_slice(self.spark, source, low)
        self.run.layer(name, "bronze")
        discard_uncommitted_runs(self.spark, self.lakehouse, self.lakehouse.bronze(name))
        if plan.rows == 0:
            return
        bronze = self.land(name, jdbc.read_slice(self.spark, source, plan).withColumn("_source_ref", F.lit(source.table)))
        try:
            self.refine(name, bronze)
        finally:
            bronze.unpersist()
        if source.watermark_column and plan.high is not None:
            advance_watermark(self.spark, self.lakehouse, name, source.watermark_column, plan.high, self.run.run_id)

    def ingest_rest(self, name: str, source: RestSource) -> None:
        since = read_watermark(self.spark, self.lakehouse, name) if source.since_field else None
        client = RestClient(source, token=read_secret(source.token_env))
        # An empty page says only "nothing new"; landing it would grow bronze on every idle run.
        pages = [page for page in client.fetch_pages(since=since) if page.records != []]
        self.run.layer(name, "bronze")
        discard_uncommitted_runs(self.spark, self.lakehouse, self.lakehouse.bronze(name))
        if not pages:
            return
        bronze = self.land(name, pages_frame(self.spark, pages).withColumn("_source_ref", F.col("_page_url")))
        try:
            records = bronze.transform(explode_records(source)).persist(StorageLevel.MEMORY_AND_DISK)
            self.refine(name, records)
            latest = records.agg(F.max(source.since_field)).first()[0] if source.since_field else None
            records.unpersist()
        finally:
            bronze.unpersist()
        if latest is not None:
            advance_watermark(self.spark, self.lakehouse, name, source.since_field, latest, self.run.run_id)

    def build_gold(self) -> None:
        """Build every gold table the config declares, in dependency order (lakeforge.pipelines.gold)."""
        for counts in build_gold_tables(self.spark, self.config, self.lakehouse, self.run.run_id, self.validations.append):
            self.run.layer(counts.source, "gold").add(counts)
