"""Table-level expectation policies through the pipeline: drop quarantines the batch, fail stops the
job with the rule and its counts (and the audit says so), warn keeps the rows and records the count."""

import pytest

from helpers import one_source_pipeline
from lakeforge.pipelines.runner import PipelineRunner
from lakeforge.quality.expectations import ExpectationFailedError
from lakeforge.tables.audit import read_audit
from lakeforge.tables.layout import Lakehouse


def run_with(spark, tmp_path, rule: dict):
    folder = tmp_path / "in" / "orders"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.jsonl").write_text("".join(f'{{"id": "{i}", "amount": "{a}", "status": "{s}"}}\n' for i, a, s in [(1, 5, "new"), (2, 50, "new"), (3, 500, "odd")]))
    source = {"kind": "files", "path": "orders", "format": "jsonl", "schema": {"id": "string", "amount": "string", "status": "string"}}
    silver = {"keys": ["id"], "columns": {"id": {"type": "int"}, "amount": {"type": "double"}, "status": {}}, "expectations": [rule]}
    config = one_source_pipeline(tmp_path, "orders", source, silver)
    runner = PipelineRunner(spark, config)
    return runner, runner.execute


def table(spark, tmp_path, layer):
    return spark.read.format("delta").load(f"{tmp_path}/lake/{layer}/orders")


def test_drop_policy_on_a_table_rule_quarantines_the_whole_batch(spark, tmp_path):
    rule = {"name": "mean_amount_sane", "expectation": "expect_column_mean_to_be_between", "kwargs": {"column": "amount", "max_value": 100}, "policy": "drop"}
    _, execute = run_with(spark, tmp_path, rule)
    silver = execute().layer("orders", "silver")
    assert (silver.read, silver.written, silver.quarantined) == (3, 0, 3)
    reasons = {tuple(row["_reasons"]) for row in table(spark, tmp_path, "quarantine").collect()}
    assert reasons == {("mean_amount_sane",)}


def test_fail_policy_stops_the_job_naming_the_rule_and_counts(spark, tmp_path):
    rule = {"name": "at_most_two", "expectation": "expect_table_row_count_to_be_between", "kwargs": {"max_value": 2}, "policy": "fail"}
    runner, execute = run_with(spark, tmp_path, rule)
    with pytest.raises(ExpectationFailedError, match=r"rule 'at_most_two' \(expect_table_row_count_to_be_between max_value=2\) failed: observed 3"):
        execute()
    audit = read_audit(spark, Lakehouse(str(tmp_path / "lake"))).where(f"run_id = '{runner.run.run_id}' AND status != 'started'").collect()
    assert {(row["layer"], row["status"]) for row in audit} == {("bronze", "failed"), ("job", "failed")}
    assert all("at_most_two" in row["error"] for row in audit)


def test_warn_policy_keeps_rows_and_records_the_count(spark, tmp_path):
    rule = {"name": "status_known", "expectation": "expect_column_values_to_be_in_set", "kwargs": {"column": "status", "value_set": ["new"]}, "policy": "warn"}
    runner, execute = run_with(spark, tmp_path, rule)
    assert execute().layer("orders", "silver").written == 3
    validation = spark.read.format("delta").load(f"{tmp_path}/lake/_system/validations").where("rule = 'status_known'").first()
    assert (validation["success"], validation["unexpected_count"], validation["run_id"]) == (False, 1, runner.run.run_id)
