"""The audit's terms come from independent counts, so a row lost without a trace fails the run with the numbers."""

import pytest
from pyspark.sql import functions as F

from helpers import one_source_pipeline
from lakeforge.demo.api_server import start_api_server
from lakeforge.pipelines import medallion
from lakeforge.pipelines.runner import PipelineRunner
from lakeforge.tables.audit import ReconciliationError, read_audit
from lakeforge.tables.layout import Lakehouse
from pipelines.mixed_sources import TOKEN, pipeline_dict, tickets


def orders_pipeline(tmp_path):
    folder = tmp_path / "in" / "orders"
    folder.mkdir(parents=True, exist_ok=True)
    # Four lines: two valid orders, one duplicate of order 1, one malformed line.
    (folder / "a.jsonl").write_text('{"id": "1", "amount": "5"}\n{"id": "2", "amount": "7"}\n{"id": "1", "amount": "5"}\n{"id": \n')
    source = {"kind": "files", "path": "orders", "format": "jsonl", "schema": {"id": "string", "amount": "string"}}
    silver = {"keys": ["id"], "columns": {"id": {"type": "int"}, "amount": {"type": "double"}}}
    return one_source_pipeline(tmp_path, "orders", source, silver)


def test_counts_come_from_the_reader_and_the_delta_commits(spark, tmp_path):
    run = PipelineRunner(spark, orders_pipeline(tmp_path)).execute()
    bronze, silver = run.layer("orders", "bronze"), run.layer("orders", "silver")
    assert (bronze.read, bronze.written) == (4, 4)  # the malformed line is a record the reader saw
    assert (silver.read, silver.written, silver.quarantined, silver.deduplicated) == (4, 2, 1, 1)


def test_a_transform_dropping_rows_silently_makes_the_run_fail_unbalanced(spark, tmp_path, monkeypatch):
    cleanse = medallion.cleanse_columns

    def cleanse_and_lose_order_2(columns):
        return lambda df: cleanse(columns)(df).where(F.col("id").isNull() | (F.col("id") != 2))

    monkeypatch.setattr(medallion, "cleanse_columns", cleanse_and_lose_order_2)
    runner = PipelineRunner(spark, orders_pipeline(tmp_path))
    with pytest.raises(ReconciliationError, match=r"orders/silver: read 4 rows but wrote 1, quarantined 1 and removed 1 duplicates \(1 unaccounted for\)"):
        runner.execute()
    audit = read_audit(spark, Lakehouse(str(tmp_path / "lake"))).where(f"run_id = '{runner.run.run_id}'")
    statuses = {(row["layer"], row["status"]) for row in audit.collect()}
    assert statuses == {("job", "started"), ("bronze", "failed"), ("silver", "unreconciled"), ("job", "failed")}



def test_the_session_still_trains_and_scores_a_model_after_an_ingestion_run(spark, tmp_path, monkeypatch):
    """Counting must not leave the session unserializable: a logistic regression model keeps the
    session in its training summary, and scoring ships the model to the tasks. REST is read in the
    caller's session (file sources run in a streaming query's own session)."""
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.functions import array_to_vector

    monkeypatch.setenv("LF_MIXED_API_TOKEN", TOKEN)
    rest = pipeline_dict(tmp_path, orders_table="unused", api_url="")
    with start_api_server(tickets(range(1, 4)), TOKEN, mode="cursor", page_size=2) as api:
        source = {**rest["sources"]["tickets"], "url": api.url}
        silver = {key: value for key, value in rest["silver"]["tickets"].items() if key != "source"}
        PipelineRunner(spark, one_source_pipeline(tmp_path, "tickets", source, silver)).execute()
    # From spark.range, so scoring runs in tasks (a local relation would be scored on the driver).
    rows = spark.range(6).select("id", array_to_vector(F.array(F.col("id").cast("double"))).alias("features"), (F.col("id") > 2).cast("double").alias("label"))
    model = LogisticRegression(maxIter=20).fit(rows)
    scored = model.transform(rows).orderBy("id").collect()
    assert [row.prediction for row in scored] == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
