"""Silver -> gold: every declared gold table built after the gold tables it reads, checked by its
expectations, then rebuilt whole or MERGEd by the keys its inputs' changes touch, and counted.

Counts come from different places, so the audit's reconciliation means something: read is counted
on the computed rows, quarantined and written are Delta's commit metrics.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import reduce

from pyspark.sql import DataFrame, SparkSession

from lakeforge.config.models import GoldTable, PipelineConfig
from lakeforge.pipelines.gold_definitions import GoldDefinitionError, build_order, compute_gold, gold_inputs
from lakeforge.pipelines.gold_merge import BuildMarker, keys_match, last_build, merge_touched_keys, overwrite
from lakeforge.pipelines.gold_quality import apply_expectations
from lakeforge.quality.expectations import ValidationReport
from lakeforge.tables import delta
from lakeforge.tables.audit import LayerCounts
from lakeforge.tables.change_feed import changed_rows, enable_change_feed
from lakeforge.tables.layout import Lakehouse


class DuplicateGoldKeysError(GoldDefinitionError):
    """A gold table's rows are not one per key: its keys or its SQL are wrong."""


@dataclass(frozen=True)
class GoldContext:
    """What building any gold table needs."""

    spark: SparkSession
    config: PipelineConfig
    lakehouse: Lakehouse
    run_id: str
    on_validated: Callable[[ValidationReport], None]

    def path(self, table: str) -> str:
        return self.lakehouse.silver(table) if table in self.config.silver else self.lakehouse.gold(table)


def build_gold_tables(
    spark: SparkSession, config: PipelineConfig, lakehouse: Lakehouse, run_id: str, on_validated: Callable[[ValidationReport], None]
) -> list[LayerCounts]:
    """Build every gold table of `config`, each after the gold tables it reads; one LayerCounts each."""
    context = GoldContext(spark, config, lakehouse, run_id, on_validated)
    inputs = gold_inputs(config)
    return [build_gold_table(context, name, inputs[name]) for name in build_order(inputs)]


def build_gold_table(context: GoldContext, name: str, inputs: list[str]) -> LayerCounts:
    spark, spec = context.spark, context.config.gold[name]
    paths = {table: context.path(table) for table in inputs}
    missing = [table for table, path in paths.items() if not delta.exists(spark, path)]
    if missing:
        raise GoldDefinitionError(f"gold.{name}", f"reads {missing}, which do not exist yet: ingest their sources first")
    if spec.mode == "incremental":
        for path in paths.values():
            enable_change_feed(spark, path)  # before the versions are pinned, so every later change is in the feed
    versions = {table: delta.version_of(spark, path) for table, path in paths.items()}
    current = snapshot(spark, paths, versions)
    target, marker = context.lakehouse.gold(name), BuildMarker(spec.mode, versions)

    previous = last_build(spark, target) if spec.mode == "incremental" else None
    changes = changes_since(spark, previous, marker, paths) if previous is not None else None
    rows = compute_gold(spark, name, spec, current)
    incremental = changes is not None and same_columns(spark, rows, target)  # new columns: rebuild whole
    if incremental and not changes:
        return LayerCounts(name, "gold")  # no input changed since the last build
    if incremental:
        touched = touched_keys(spark, name, spec, (snapshot(spark, paths, previous.inputs), current), changes)
        rows = rows.join(touched, on=keys_match(rows, touched, spec.keys), how="left_semi")

    quarantine = context.lakehouse.quarantine(f"gold_{name}")
    checked = apply_expectations(rows, name, spec.expectations, quarantine, context.run_id, context.on_validated)
    try:
        read = checked.cached.count()  # the rows computed, before any rule; Delta counts what is written
        check_unique_keys(name, checked.valid, spec.keys)
        if incremental:
            merged = merge_touched_keys(spark, checked.valid, touched, target, spec.keys, marker)
            counts = LayerCounts(name, "gold", written=merged.inserted + merged.updated, inserted=merged.inserted, updated=merged.updated)
        else:
            written = overwrite(checked.valid, target, spec.partition_by, marker)
            counts = LayerCounts(name, "gold", written=written, inserted=written)
    finally:
        checked.cached.unpersist()
    counts.read = read
    counts.quarantined = checked.quarantined
    return counts


def changes_since(spark: SparkSession, previous: BuildMarker, marker: BuildMarker, paths: Mapping[str, str]) -> dict[str, DataFrame] | None:
    """Each input's rows changed since the previous incremental build; None when it cannot be told
    (no such build, or the table's inputs changed), which means a full rebuild."""
    if previous.mode != "incremental" or set(previous.inputs) != set(marker.inputs):
        return None
    return {
        table: changed_rows(spark, paths[table], previous.inputs[table], version)
        for table, version in marker.inputs.items()
        if version > previous.inputs[table]
    }


def snapshot(spark: SparkSession, paths: Mapping[str, str], versions: Mapping[str, int]) -> dict[str, DataFrame]:
    """The input tables as of the given versions (what a build reads is pinned, so its marker is true)."""
    return {table: spark.read.format("delta").option("versionAsOf", versions[table]).load(path) for table, path in paths.items()}


def touched_keys(
    spark: SparkSession, name: str, spec: GoldTable, states: tuple[Mapping[str, DataFrame], ...], changes: Mapping[str, DataFrame]
) -> DataFrame:
    """The gold keys whose rows may differ: the table computed with one input cut down to its changed
    rows (old and new images) and the other inputs as they were at the last build and as they are now,
    so each changed row shows the keys it counted towards before and the keys it counts towards now."""
    empty = spark.createDataFrame([], compute_gold(spark, name, spec, states[-1]).select(*spec.keys).schema)
    frames = [compute_gold(spark, name, spec, {**state, table: rows}).select(*spec.keys) for table, rows in changes.items() for state in states]
    return reduce(DataFrame.unionByName, frames, empty).distinct()


def check_unique_keys(name: str, rows: DataFrame, keys: list[str]) -> None:
    duplicated = rows.groupBy(*keys).count().where("count > 1")
    examples = duplicated.limit(3).collect()
    if examples:
        shown = ", ".join(json.dumps({key: str(row[key]) for key in keys}) for row in examples)
        raise DuplicateGoldKeysError(f"gold.{name}.keys", f"{keys} must identify one row each, but these appear more than once: {shown}")


def same_columns(spark: SparkSession, rows: DataFrame, target: str) -> bool:
    """Whether the table's rows still have the stored table's columns (else a MERGE cannot apply them)."""
    stored = spark.read.format("delta").load(target).schema
    return [(f.name, f.dataType) for f in stored] == [(f.name, f.dataType) for f in rows.schema]

