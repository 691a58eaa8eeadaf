import pytest

from lakeforge.tables.audit import LayerCounts, ReconciliationError, Run, read_audit, record_run
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
