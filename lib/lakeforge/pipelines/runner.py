"""Run a pipeline config: every source to bronze and silver, then gold, recording the audit.

Each source is one unit: its bronze rows, silver upserts, quarantine rows, audit rows and
watermark. JDBC and REST sources commit the unit with one append to the audit table (which
holds the watermark) after their counts reconcile; a unit that never committed is discarded from
bronze and quarantine by the next run, which reads its slice again. File sources commit per
micro-batch through their streaming checkpoint and Delta's idempotent appends.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.config.models import FileSource, JdbcSource, KafkaSource, PipelineConfig, RestSource, SilverTable, read_secret
from lakeforge.ingestion import files, jdbc, kafka
from lakeforge.ingestion.rest import RestClient
from lakeforge.ingestion.rest_pages import explode_records, pages_frame
from lakeforge.pipelines.faults import FaultPoint
from lakeforge.pipelines.gold import build_gold_tables
from lakeforge.pipelines.medallion import BRONZE_STATS_COLUMNS, PHASES, refine_to_silver, with_bronze_metadata
from lakeforge.quality.expectations import ValidationReport
from lakeforge.quality.validations import record_validations
from lakeforge.spark import job_description
from lakeforge.tables import delta
from lakeforge.tables.audit import (
    LayerCounts,
    ReconciliationError,
    Run,
    Watermark,
    commit_source,
    discard_uncommitted_runs,
    record_end,
    record_start,
)
from lakeforge.tables.layout import Lakehouse
from lakeforge.tables.watermarks import read_watermark


@dataclass
class Landed:
    """One slice or batch just appended to bronze."""

    name: str
    rows: DataFrame  # persisted, for silver to refine without reading the source again
    written: int  # as Delta counted the append (or the earlier commit of a replayed batch)
    arrived: int  # rows the reader handed over, counted from the cached rows, not by the writer

    def counts(self, read: int | None = None) -> LayerCounts:
        """Bronze's counts; read: the source's own count, None for the reader's."""
        return LayerCounts(source=self.name, layer="bronze", read=self.arrived if read is None else read, written=self.written)


class PipelineRunner:
    """Holds what every step needs (session, config, lakehouse, the run being audited)."""

    def __init__(self, spark: SparkSession, config: PipelineConfig, faults: FaultPoint | None = None):
        self.spark = spark
        self.config = config
        self.lakehouse = Lakehouse(config.platform.storage.root)
        self.run = Run(job=config.name)
        self.validations: list[ValidationReport] = []
        self.faults = faults if faults is not None else FaultPoint.from_env()
        self.committed: list[LayerCounts] = []  # layers whose audit rows a source commit wrote

    def execute(self, sources: list[str] | None = None) -> Run:
        """Ingest the named sources (default all, then rebuild gold) and append the audit rows."""
        with job_description(self.spark, f"run {self.config.name}: {PHASES.audit}"):
            record_start(self.spark, self.lakehouse, self.run)
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
        """Write the run's validation results and end rows; a layer that does not reconcile fails the run."""
        pending = [counts for counts in self.run.layers if not any(counts is done for done in self.committed)]
        with job_description(self.spark, f"run {self.config.name}: {PHASES.audit}"):
            record_validations(self.spark, self.lakehouse, self.run.run_id, self.validations)
            record_end(self.spark, self.lakehouse, self.run, pending, error)
        if error is None:
            for counts in pending:
                counts.check()

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

    def land(self, name: str, raw: DataFrame, batch_id: int | None = None) -> Landed:
        """Append raw rows (with their _source_ref) to bronze, counting them as the reader hands them over.

        The count is a second job over the cached rows. `DataFrame.observe` with an `Observation`
        would save it, but on Spark 4.0 it leaves the session unable to serialize any model whose
        training summary holds the session (logistic and linear regression), which breaks
        training in the same session.
        """
        rows = raw.transform(with_bronze_metadata(name, self.run.run_id)).persist(StorageLevel.MEMORY_AND_DISK)
        app_id = f"{name}:bronze" if batch_id is not None else None
        with job_description(self.spark, f"bronze {name}: {PHASES.land}"):
            appended = delta.append_rows(rows, self.lakehouse.bronze(name), app_id=app_id, version=batch_id, stats_columns=BRONZE_STATS_COLUMNS)
        with job_description(self.spark, f"bronze {name}: {PHASES.count}"):
            arrived = rows.count()
        return Landed(name=name, rows=rows, written=appended.rows, arrived=arrived)

    def refine(self, name: str, rows: DataFrame, read: int, expected: int, batch_id: int | None = None) -> list[LayerCounts]:
        """Bronze rows (`read` of them, counted from the cache) to every silver table of the source;
        they must be the `expected` rows bronze handed over."""
        results = []
        for table, spec in self.silver_specs(name).items():
            if read != expected:
                raise ReconciliationError(f"{table}/silver: read {read} rows but bronze {name} handed over {expected}")
            results.append(refine_to_silver(self.spark, rows, read, table, spec, self.lakehouse, self.validations.append, batch_id))
        return results

    def add(self, layers: list[LayerCounts]) -> None:
        for counts in layers:
            self.run.layer(counts.source, counts.layer).add(counts)

    def commit(self, name: str, watermark: Watermark | None) -> None:
        """The source's unit: its audit rows and watermark in one commit, once every count reconciles."""
        layers = [self.run.layer(name, "bronze"), *(self.run.layer(table, "silver") for table in self.silver_specs(name))]
        with job_description(self.spark, f"bronze {name}: {PHASES.audit}"):
            commit_source(self.spark, self.lakehouse, self.run, layers, watermark)
        self.committed.extend(layers)
        self.faults.reach(f"{name}:committed")

    def discard_uncommitted(self, name: str) -> None:
        tables = [self.lakehouse.bronze(name), *(self.lakehouse.quarantine(table) for table in self.silver_specs(name))]
        discard_uncommitted_runs(self.spark, self.lakehouse, name, tables)

    def ingest_micro_batches(self, name: str, source: FileSource | KafkaSource) -> None:
        """New files or Kafka records, a micro-batch at a time: each lands, refines and commits with its
        batch in the streaming checkpoint."""

        def process_batch(batch: DataFrame, batch_id: int) -> None:
            """One micro-batch's unit; the checkpoint commits it only when this returns."""
            landed = self.land(name, batch, batch_id=batch_id)
            try:
                self.faults.reach(f"{name}#{batch_id}:landed")
                silver = self.refine(name, landed.rows, landed.arrived, expected=landed.written, batch_id=batch_id)
                layers = [landed.counts(), *silver]
                self.add(layers)
                for counts in layers:
                    counts.check()  # an unbalanced batch stays uncommitted in the checkpoint, read again next run
                self.faults.reach(f"{name}#{batch_id}:refined")
            finally:
                landed.rows.unpersist()

        self.run.layer(name, "bronze")
        if isinstance(source, KafkaSource):
            kafka.ingest_new_records(self.spark, source, self.lakehouse.checkpoint(name, "kafka"), process_batch)
        else:
            directory = os.path.join(self.config.platform.storage.landing, source.path)
            files.ingest_new_files(self.spark, source, directory, self.lakehouse.checkpoint(name, "files"), process_batch)
        self.commit(name, watermark=None)

    def ingest_jdbc(self, name: str, source: JdbcSource) -> None:
        self.discard_uncommitted(name)
        low = read_watermark(self.spark, self.lakehouse, name) if source.watermark_column else None
        plan = jdbc.plan_slice(self.spark, source, low)
        self.run.layer(name, "bronze")
        if plan.rows == 0:
            return
        landed = self.land(name, jdbc.read_slice(self.spark, source, plan).withColumn("_source_ref", F.lit(source.table)))
        try:
            self.faults.reach(f"{name}:landed")
            silver = self.refine(name, landed.rows, landed.arrived, expected=landed.written)
            self.faults.reach(f"{name}:refined")
        finally:
            landed.rows.unpersist()
        self.add([landed.counts(read=plan.rows), *silver])  # read: the database's count of the slice
        self.commit(name, plan.high)

    def ingest_rest(self, name: str, source: RestSource) -> None:
        self.discard_uncommitted(name)
        mark = read_watermark(self.spark, self.lakehouse, name) if source.since_field else None
        client = RestClient(source, token=read_secret(source.token_env))
        # An empty page says only "nothing new"; landing it would grow bronze on every idle run.
        pages = [page for page in client.fetch_pages(since=mark.value if mark else None) if page.records != []]
        self.run.layer(name, "bronze")
        if not pages:
            return
        landed = self.land(name, pages_frame(self.spark, pages).withColumn("_source_ref", F.col("_page_url")))
        # What silver must read: the records in the pages as the client parsed them; an unparsable page is one row.
        records_in_pages = sum(1 if page.records is None else len(page.records) for page in pages)
        try:
            self.faults.reach(f"{name}:landed")
            records = landed.rows.transform(explode_records(source)).persist(StorageLevel.MEMORY_AND_DISK)
            silver = self.refine(name, records, records.count(), expected=records_in_pages)
            latest = records.agg(F.max(source.since_field)).first()[0] if source.since_field else None
            records.unpersist()
            self.faults.reach(f"{name}:refined")
        finally:
            landed.rows.unpersist()
        self.add([landed.counts(read=len(pages)), *silver])  # read: the pages the client received
        self.commit(name, Watermark(value=latest) if latest is not None else None)

    def build_gold(self) -> None:
        """Build every gold table the config declares, in dependency order (lakeforge.pipelines.gold)."""
        for counts in build_gold_tables(self.spark, self.config, self.lakehouse, self.run.run_id, self.validations.append):
            self.run.layer(counts.source, "gold").add(counts)
