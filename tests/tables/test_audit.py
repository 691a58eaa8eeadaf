import pytest

from lakeforge.tables.audit import LayerCounts, ReconciliationError, Run, Watermark, commit_source, committed_runs, read_audit, record_run
from lakeforge.tables.watermarks import read_watermark
from lakeforge.tables.layout import Lakehouse


def test_layer_counts_add_up_across_batches():
    total = LayerCounts("s", "silver")
    total.add(LayerCounts("s", "silver", read=10, written=7, quarantined=2, deduplicated=1, inserted=7))
    total.add(LayerCounts("s", "silver", read=5, written=5, updated=3))
    assert (total.read, total.written, total.quarantined, total.deduplicated, total.inserted, total.updated) == (15, 12, 2, 1, 7, 3)
    assert total.balanced


def test_unbalanced_layer_names_the_missing_rows():
    counts = LayerCounts("customers", "silver", read=10, written=6, quarantined=2, deduplicated=1)
    with pytest.raises(ReconciliationError, match=r"customers/silver: read 10 rows .* \(1 unaccounted for\)"):
        counts.check()


def test_record_run_appends_rows_and_fails_on_imbalance(spark, tmp_path):
    lakehouse = Lakehouse(str(tmp_path))
    good = Run(job="j")
    good.layer("a", "bronze").add(LayerCounts("a", "bronze", read=3, written=3))
    record_run(spark, lakehouse, good)

    bad = Run(job="j")
    bad.layer("a", "silver").add(LayerCounts("a", "silver", read=3, written=1))
    with pytest.raises(ReconciliationError):
        record_run(spark, lakehouse, bad)

    failed = Run(job="j")
    record_run(spark, lakehouse, failed, error=ValueError("source down"))

    rows = {row["run_id"]: row for row in read_audit(spark, lakehouse).collect()}
    assert rows[good.run_id]["status"] == "succeeded" and rows[good.run_id]["rows_written"] == 3
    assert rows[bad.run_id]["status"] == "unreconciled"
    assert rows[failed.run_id]["status"] == "failed"
    assert rows[failed.run_id]["error"] == "ValueError: source down"
    assert rows[failed.run_id]["layer"] == "job"


def test_a_source_commit_carries_its_watermark_and_refuses_unbalanced_counts(spark, tmp_path):
    lakehouse = Lakehouse(str(tmp_path))
    first = Run(job="j")
    layers = [LayerCounts("orders", "bronze", read=3, written=3), LayerCounts("orders", "silver", read=3, written=2, deduplicated=1)]
    commit_source(spark, lakehouse, first, layers, Watermark("2026-01-01 00:00:00", "timestamp"))

    unbalanced = Run(job="j")
    with pytest.raises(ReconciliationError, match=r"orders/bronze: read 2 rows but wrote 1"):
        commit_source(spark, lakehouse, unbalanced, [LayerCounts("orders", "bronze", read=2, written=1)], Watermark("2026-02-01 00:00:00", "timestamp"))

    assert read_watermark(spark, lakehouse, "orders") == Watermark("2026-01-01 00:00:00", "timestamp")
    assert [row["run_id"] for row in committed_runs(spark, lakehouse, "orders").collect()] == [first.run_id]
    marks = {row["layer"]: row["watermark"] for row in read_audit(spark, lakehouse).collect()}
    assert marks == {"bronze": "2026-01-01 00:00:00", "silver": None}
