"""Inference log rows from scored rows: one per prediction, with its own request id, the model and
version, the entity, the inputs as text and the time it was scored."""

from __future__ import annotations

from datetime import datetime

from lakeforge.deployment.scoring import inference_log_rows

SCORED = "customerID string, tenure int, Contract string, prediction double, score double"


def test_each_scored_row_becomes_one_log_row_stamped_at_scoring_time(spark):
    scored = spark.createDataFrame([("c1", 3, "Month-to-month", 1.0, 0.91), ("c2", 60, None, 0.0, 0.12)], SCORED)
    before = datetime.now()
    rows = {r.entity_id: r for r in scored.transform(inference_log_rows("lakeforge_churn", "4", "customerID", ["tenure", "Contract"])).collect()}
    after = datetime.now()
    assert set(rows) == {"c1", "c2"} and rows["c1"].request_id != rows["c2"].request_id
    assert (rows["c1"].model_name, rows["c1"].model_version, rows["c1"].prediction, rows["c1"].score) == ("lakeforge_churn", "4", 1.0, 0.91)
    assert rows["c1"].inputs == {"tenure": "3", "Contract": "Month-to-month"} and rows["c2"].inputs == {"tenure": "60", "Contract": None}
    assert all(before <= r.scored_at <= after and r.latency_ms is None for r in rows.values())


def test_a_given_scoring_time_is_kept(spark):
    at = datetime(2026, 3, 1, 9, 30)
    scored = spark.createDataFrame([("c1", 3, "One year", 0.0, 0.2)], SCORED)
    assert scored.transform(inference_log_rows("m", "1", "customerID", ["tenure"], scored_at=at)).first().scored_at == at
