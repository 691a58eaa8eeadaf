"""MovieLens-format batch load: typed silver rows, quarantine with reasons, duplicates by event id, audit."""

import pytest
from pyspark.sql import functions as F

from lakeforge.recommendations import interactions
from lakeforge.recommendations.load import load_folder
from lakeforge.recommendations.tables import RecsTables
from lakeforge.tables.audit import ReconciliationError, read_audit
from recommendations.world import small_config

RATINGS = """userId,movieId,rating,timestamp
1,10,4.0,1700000000
1,11,3.5,1700000100
1,10,4.0,1700000000
2,10,abc,1700000200
,12,5.0,1700000300
"""
EVENTS = """event_id,user_id,item_id,event_type,value,event_time
e1,2,11,purchase,1,2026-01-02T10:00:00.000000+00:00
e2,2,12,teleport,1,2026-01-02T10:01:00.000000+00:00
e1,2,11,purchase,1,2026-01-02T10:00:00.000000+00:00
"""
MOVIES = """movieId,title,genres
10,Ten,Drama|Comedy
11,Eleven,Horror
12,Twelve,Comedy
"""


def test_loader_types_quarantines_dedupes_and_audits(spark, tmp_path):
    config = small_config(tmp_path)
    for name, text in (("ratings.csv", RATINGS), ("events.csv", EVENTS), ("movies.csv", MOVIES)):
        (tmp_path / name).write_text(text)
    tables = RecsTables.of(config)

    run = load_folder(spark, config, tmp_path)
    load_folder(spark, config, tmp_path)  # the same files again: nothing new

    silver = spark.read.format("delta").load(tables.silver)
    rows = {(r.event_id, r.user_id, r.item_id, r.event_type, r.value) for r in silver.collect()}
    assert rows == {
        ("ml-1-10-1700000000", 1, 10, "rating", 4.0),
        ("ml-1-11-1700000100", 1, 11, "rating", 3.5),
        ("e1", 2, 11, "purchase", 1.0),
    }
    reasons = {r.reason for r in spark.read.format("delta").load(tables.quarantine).select(F.explode("_reasons").alias("reason")).collect()}
    assert {"cast:value", "user_id_present", "event_type_known"} <= reasons
    categories = {r.item_id: r.category for r in spark.read.format("delta").load(tables.items).collect()}
    assert categories == {10: "Drama", 11: "Horror", 12: "Comedy"}

    silver_counts = {(c.source, c.layer): c for c in run.layers}[("interactions", "silver")]
    assert (silver_counts.read, silver_counts.written, silver_counts.quarantined, silver_counts.deduplicated) == (8, 3, 3, 2)
    audit = read_audit(spark, tables.lakehouse).where((F.col("job") == "recs.load") & (F.col("layer") == "silver") & (F.col("source") == "interactions"))
    second = audit.where(F.col("run_id") != run.run_id).first()
    assert (second.rows_read, second.rows_written, second.rows_deduplicated, second.status) == (8, 0, 5, "succeeded")


def test_a_split_that_loses_a_valid_row_fails_the_load_with_the_numbers(spark, tmp_path, monkeypatch):
    """Silver's read is counted before the split and written comes from Delta's commit, so a row lost
    between them cannot balance."""
    split = interactions.split_valid_and_quarantined

    def split_losing_e1(typed):
        valid, rejected = split(typed)
        return valid.where(F.col("event_id") != "e1"), rejected

    monkeypatch.setattr(interactions, "split_valid_and_quarantined", split_losing_e1)
    config = small_config(tmp_path)
    for name, text in (("ratings.csv", RATINGS), ("events.csv", EVENTS), ("movies.csv", MOVIES)):
        (tmp_path / name).write_text(text)
    with pytest.raises(ReconciliationError, match=r"interactions/silver: read 8 rows but wrote 2, quarantined 3 and removed 1 duplicates \(2 unaccounted for\)"):
        load_folder(spark, config, tmp_path)
