"""The Delta jar must match Spark exactly: every Delta feature Lakeforge relies on works end to end."""

from pathlib import Path

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from lakeforge.tables import delta


@pytest.fixture()
def table(spark, tmp_path):
    path = str(tmp_path / "t")
    spark.createDataFrame([(1, "a", 10.0), (2, "b", 20.0), (3, "c", 30.0)], "id INT, name STRING, amount DOUBLE").write.format("delta").save(path)
    return path


def test_merge_update_delete_and_time_travel(spark, table):
    changes = spark.createDataFrame([(2, "B", 21.0), (4, "d", 40.0)], "id INT, name STRING, amount DOUBLE")
    target = DeltaTable.forPath(spark, table)
    target.alias("t").merge(changes.alias("s"), "t.id = s.id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute()
    target.update("id = 1", {"amount": F.lit(11.0)})
    target.delete("id = 3")

    current = spark.read.format("delta").load(table)
    assertDataFrameEqual(current, [(1, "a", 11.0), (2, "B", 21.0), (4, "d", 40.0)], checkRowOrder=False)
    original = spark.read.format("delta").option("versionAsOf", 0).load(table)
    assertDataFrameEqual(original, [(1, "a", 10.0), (2, "b", 20.0), (3, "c", 30.0)], checkRowOrder=False)
    assert delta.version_of(spark, table) == 3


def test_schema_evolution_on_append(spark, table):
    extra = spark.createDataFrame([(5, "e", 50.0, "gold")], "id INT, name STRING, amount DOUBLE, tier STRING")
    delta.append(extra, table)
    result = spark.read.format("delta").load(table)
    assert result.columns == ["id", "name", "amount", "tier"]
    assert result.where("tier IS NULL").count() == 3


def test_idempotent_append_skips_a_replayed_batch(spark, table):
    batch = spark.createDataFrame([(9, "z", 1.0)], "id INT, name STRING, amount DOUBLE")
    delta.append(batch, table, app_id="job:bronze", version=7)
    delta.append(batch, table, app_id="job:bronze", version=7)
    assert spark.read.format("delta").load(table).where("id = 9").count() == 1


def test_append_returns_the_rows_delta_committed(spark, table):
    rows = "id INT, name STRING, amount DOUBLE"
    assert delta.append(spark.createDataFrame([(5, "e", 1.0), (6, "f", 2.0)], rows), table) == 2
    assert delta.append(spark.createDataFrame([], rows), table) == 0  # Delta commits nothing; not the last commit's 2
    batch = spark.createDataFrame([(7, "g", 1.0), (8, "h", 1.0), (9, "i", 1.0)], rows)
    assert delta.append(batch, table, app_id="job:bronze", version=3) == 3
    assert delta.append(spark.createDataFrame([(5, "e", 1.0)], rows), table) == 1
    assert delta.append(batch, table, app_id="job:bronze", version=3) == 3  # skipped replay: the earlier commit's count
    assert spark.read.format("delta").load(table).count() == 9


def test_optimize_zorder_and_vacuum(spark, table):
    for i in range(3):
        delta.append(spark.createDataFrame([(10 + i, "x", 1.0)], "id INT, name STRING, amount DOUBLE"), table)
    def data_files():
        return sorted(Path(table).glob("*.parquet"))

    files_before = len(DeltaTable.forPath(spark, table).toDF().inputFiles())
    metrics = spark.sql(f"OPTIMIZE delta.`{table}` ZORDER BY (id)").first()["metrics"]
    assert metrics["numFilesAdded"] == 1 and metrics["numFilesRemoved"] == files_before
    assert len(DeltaTable.forPath(spark, table).toDF().inputFiles()) == 1

    spark.sql(f"VACUUM delta.`{table}` RETAIN 0 HOURS")
    assert len(data_files()) == 1
    assert spark.read.format("delta").load(table).count() == 6


def test_merge_upsert_keeps_the_newer_row(spark, tmp_path):
    path = str(tmp_path / "s")
    first = spark.createDataFrame([("k1", 1, "new"), ("k2", 1, "v1")], "key STRING, ts INT, value STRING")
    result = delta.merge_upsert(spark, first, path, ["key"], "ts")
    assert (result.source_rows, result.inserted, result.updated) == (2, 2, 0)
    older_and_newer = spark.createDataFrame([("k1", 0, "stale"), ("k2", 2, "v2"), ("k3", 1, "v1")], "key STRING, ts INT, value STRING")
    result = delta.merge_upsert(spark, older_and_newer, path, ["key"], "ts")
    assert (result.source_rows, result.inserted, result.updated) == (3, 1, 1)
    assertDataFrameEqual(
        spark.read.format("delta").load(path),
        [("k1", 1, "new"), ("k2", 2, "v2"), ("k3", 1, "v1")],
        checkRowOrder=False,
    )
