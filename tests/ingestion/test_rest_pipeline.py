"""REST source through the pipeline: raw pages in bronze, records in silver, each exactly once."""

import json

import pytest

from fault_api import FaultPlan, start_api_server
from helpers import one_source_pipeline
from lakeforge.config.models import PipelineConfig
from lakeforge.ingestion.rest import RestSourceError
from lakeforge.pipelines.runner import PipelineRunner

TOKEN = "test-token"


def ticket(i: int, updated: str = "2026-01-01T00:00:00Z", priority: str = "low") -> dict:
    return {"ticket_id": f"T{i:04d}", "customer_id": f"C{i:06d}", "updated_at": updated, "priority": priority}


def pipeline(tmp_path, url: str, mode: str) -> PipelineConfig:
    pagination = {"cursor": {"type": "cursor"}, "page": {"type": "page", "page_size": 10}}[mode]
    source = {
        "kind": "rest",
        "url": url,
        "pagination": pagination,
        "token_env": "LF_TEST_API_TOKEN",
        "since_param": "updated_since",
        "since_field": "updated_at",
        "retry": {"max_attempts": 3, "backoff_seconds": 0.01},
        "record_schema": {"ticket_id": "string", "customer_id": "string", "updated_at": "string", "priority": "string"},
    }
    priority_known = {"name": "priority_known", "expectation": "expect_column_values_to_be_in_set", "kwargs": {"column": "priority", "value_set": ["low", "high"]}}
    silver = {
        "keys": ["ticket_id"],
        "latest_by": "updated_at",
        "columns": {"ticket_id": {}, "customer_id": {}, "updated_at": {"type": "timestamp"}, "priority": {}},
        "expectations": [priority_known],
    }
    return one_source_pipeline(tmp_path, "tickets", source, silver)


@pytest.fixture(autouse=True)
def api_token(monkeypatch):
    monkeypatch.setenv("LF_TEST_API_TOKEN", TOKEN)


def test_pages_land_raw_and_records_reach_silver_once(spark, tmp_path):
    records = [ticket(i) for i in range(25)] + [ticket(99, priority="whenever")]
    with start_api_server(records, TOKEN, mode="cursor", page_size=10, faults=FaultPlan(fail_pages={2: 1})) as api:
        config = pipeline(tmp_path, api.url, "cursor")
        first = PipelineRunner(spark, config).execute()
        assert first.layer("tickets", "bronze").read == 3  # pages
        silver = first.layer("tickets", "silver")
        assert (silver.read, silver.written, silver.quarantined) == (26, 25, 1)
        assert api.stats.by_status[503] == 1

        api.upsert_records([ticket(3, updated="2026-02-01T00:00:00Z", priority="high"), ticket(50, updated="2026-02-01T00:00:00Z")])
        second = PipelineRunner(spark, config).execute()
        silver = second.layer("tickets", "silver")
        assert (silver.read, silver.inserted, silver.updated) == (2, 1, 1)
        assert PipelineRunner(spark, config).execute().layer("tickets", "silver").read == 0

    table = spark.read.format("delta").load(f"{tmp_path}/lake/silver/tickets")
    assert table.count() == 26
    assert table.where("ticket_id = 'T0003'").first()["priority"] == "high"
    page = spark.read.format("delta").load(f"{tmp_path}/lake/bronze/tickets").orderBy("_ingested_at", "_page_number").first()
    assert json.loads(page["_body"])["data"][0]["ticket_id"] == "T0000"


def test_a_page_that_stays_invalid_json_is_quarantined_with_its_body(spark, tmp_path):
    with start_api_server([ticket(i) for i in range(25)], TOKEN, mode="page", page_size=10, faults=FaultPlan(invalid_json_always={2})) as api:
        run = PipelineRunner(spark, pipeline(tmp_path, api.url, "page")).execute()
    silver = run.layer("tickets", "silver")
    assert (silver.read, silver.written, silver.quarantined) == (16, 15, 1)
    bad = spark.read.format("delta").load(f"{tmp_path}/lake/quarantine/tickets").first()
    assert bad["_reasons"] == ["malformed_record"]
    assert bad["_raw_record"].startswith('{"data": [')


def test_a_failed_run_leaves_no_bronze_rows_and_the_retry_gets_everything(spark, tmp_path):
    records = [ticket(i) for i in range(25)]
    with start_api_server(records, TOKEN, mode="cursor", page_size=10, faults=FaultPlan(invalid_json_always={3})) as api:
        with pytest.raises(RestSourceError):
            PipelineRunner(spark, pipeline(tmp_path, api.url, "cursor")).execute()
    with start_api_server(records, TOKEN, mode="cursor", page_size=10) as api:
        retry = PipelineRunner(spark, pipeline(tmp_path, api.url, "cursor")).execute()
    assert retry.layer("tickets", "silver").written == 25
