"""Micro-batch appends: a batch a restarted query replays is not written twice, and the history is
consulted only when a batch does not follow the previous one (the restart), not on every batch."""

from pyspark.sql import functions as F

from lakeforge.streaming.sink import MicroBatchAppender, commit_marker, committed_rows, last_committed_batch


def batch_rows(spark, batch_id: int, rows: int = 3):
    return spark.range(rows).select(F.lit(batch_id).alias("batch"), F.col("id"))


def batches_in(spark, path: str) -> list[int]:
    return sorted(row["batch"] for row in spark.read.format("delta").load(path).select("batch").collect())


def test_a_replayed_batch_is_skipped_and_the_next_one_written(spark, tmp_path):
    path = str(tmp_path / "table")
    first_run = MicroBatchAppender(path, "query:silver")
    assert first_run.append(batch_rows(spark, 0), 0) and first_run.append(batch_rows(spark, 1), 1)

    restarted = MicroBatchAppender(path, "query:silver")  # the process died after batch 1 reached Delta
    assert not restarted.append(batch_rows(spark, 1), 1)
    assert restarted.append(batch_rows(spark, 2), 2)

    assert batches_in(spark, path) == [0] * 3 + [1] * 3 + [2] * 3
    assert last_committed_batch(spark, path, "query:silver") == 2


def test_markers_are_per_writer(spark, tmp_path):
    path = str(tmp_path / "table")
    MicroBatchAppender(path, "query-a:silver").append(batch_rows(spark, 5), 5)
    assert last_committed_batch(spark, path, "query-b:silver") is None
    assert MicroBatchAppender(path, "query-b:silver").append(batch_rows(spark, 5), 5)
    assert batches_in(spark, path) == [5] * 6


def test_history_is_checked_only_when_a_batch_does_not_follow_the_previous_one(spark, tmp_path):
    path = str(tmp_path / "table")
    appender = MicroBatchAppender(path, "query:silver")
    appender.append(batch_rows(spark, 0), 0)
    # A commit claiming batch 9 for this writer: only a check of the history would see it.
    batch_rows(spark, 9).write.format("delta").mode("append").option("userMetadata", commit_marker("query:silver", 9)).save(path)

    assert appender.append(None, 1) is False  # a batch with no rows for this table still counts
    assert appender.append(batch_rows(spark, 2), 2)  # follows batch 1: written without looking
    assert not MicroBatchAppender(path, "query:silver").append(batch_rows(spark, 3), 3)  # a restart looks
    assert batches_in(spark, path) == [0] * 3 + [2] * 3 + [9] * 3


def test_committed_rows_are_read_from_each_marked_commit(spark, tmp_path):
    path = str(tmp_path / "table")
    appender = MicroBatchAppender(path, "query:silver")
    for batch, rows in ((0, 3), (1, 5), (3, 2)):
        appender.append(batch_rows(spark, batch, rows), batch)
    MicroBatchAppender(path, "other:silver").append(batch_rows(spark, 1, 7), 1)

    assert committed_rows(spark, path, "query:silver", {1, 2, 3}) == {1: 5, 3: 2}  # batch 2 wrote nothing
    assert committed_rows(spark, path, "other:silver", {0, 1}) == {1: 7}
