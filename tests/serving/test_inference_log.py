"""Every answer of the running service lands once in the Delta inference log, through Kafka and the
recs stream job; a record on that topic that is not one goes to quarantine with the reason."""

from __future__ import annotations

import time

import httpx
from confluent_kafka import Producer
from pyspark.sql import functions as F

from lakeforge.config.models import StorageSettings
from lakeforge.recommendations.stream import run_interactions_stream
from lakeforge.recommendations.tables import RecsTables
from lakeforge.streaming.kafka import client_options
from lakeforge.tables.audit import read_audit

K = 7  # no other test asks for 7 items: these rows are this test's


def test_each_answer_is_logged_once_with_its_items(spark, service, auth, world, tmp_path):
    users = [3, 4, 5, 3 * 10**8]  # the last is unknown to the model (and gets no events): popular items
    answers = [httpx.get(f"{service}/recommendations/{user}", params={"k": K}, headers=auth, timeout=10).json() for user in users for _ in range(2)]
    raw = Producer(client_options(world.config.kafka))
    raw.produce(world.config.kafka.inferences.name, value=b'[{"request_id":"r1","model_name":"lakeforge_recs"}]')  # no time, version or inputs
    raw.produce(world.config.kafka.inferences.name, value=b"not json")
    raw.flush(10)

    # The same topics into a lakehouse of this test's own (the shared world's tables stay as they are).
    platform = world.config.platform.model_copy(update={"storage": StorageSettings(root=str(tmp_path / "lake"), landing=str(tmp_path / "in"))})
    config = world.config.model_copy(update={"platform": platform})
    tables = RecsTables.of(config)
    ours = F.col("entity_id").isin([str(user) for user in users]) & (F.col("inputs")["k"] == str(K))
    deadline, logged = time.monotonic() + 60, []
    while len(logged) < len(answers) and time.monotonic() < deadline:  # the service sends its records in the background
        run_interactions_stream(spark, config, available_now=True)
        logged = spark.read.format("delta").load(tables.inference_log).where(ours).collect()

    assert len(logged) == len(answers) == len({row.request_id for row in logged})
    served = sorted((str(a["user_id"]), a["model_version"], a["variant"], [str(i["item_id"]) for i in a["items"]], a["items"][0]["score"]) for a in answers)
    assert sorted((r.entity_id, r.model_version, r.inputs["variant"], list(r.outputs), r.score) for r in logged) == served
    assert {row.model_name for row in logged} == {world.config.tracking.registered_model}
    assert all(row.latency_ms > 0 for row in logged)
    assert {row.inputs["source"] for row in logged if row.entity_id == str(3 * 10**8)} == {"popular"}

    quarantine = spark.read.format("delta").load(tables.quarantine).where(F.col("_table") == "inference_log").collect()
    assert sorted((list(row._reasons), row._raw_record) for row in quarantine) == [
        (["malformed_record"], "not json"), (["malformed_record"], '{"request_id":"r1","model_name":"lakeforge_recs"}')]
    layers = read_audit(spark, tables.lakehouse).where(F.col("source") == "inference_log").collect()
    assert sum(row.rows_read for row in layers) == sum(row.rows_written + row.rows_quarantined for row in layers) >= len(answers) + 2
