"""Gold's refresh inside silver's micro-batches: the span of windows it recomputes comes from the event
times silver's appends observed when those cover every batch since the last refresh, and from a
query of silver otherwise (the first refresh after a restart, a replayed batch)."""

from datetime import datetime, timezone

from pyspark.sql import functions as F

from lakeforge.streaming.config import GoldSettings
from lakeforge.streaming.gold import WindowRefresher
from lakeforge.streaming.silver import SILVER_BATCH

SETTINGS = GoldSettings(window="1 minute", metrics=["temperature"])


def at(minute: int, second: int) -> datetime:
    return datetime(2026, 12, 1, 8, minute, second, tzinfo=timezone.utc)


def micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def append_batch(spark, path: str, batch_id: int, readings: list[tuple[datetime, float]]) -> tuple[int, int]:
    """Silver batch `batch_id` of device d1; returns the event-time span its append observes."""
    rows = [("d1", moment, value) for moment, value in readings]
    frame = spark.createDataFrame(rows, "device_id string, event_time timestamp, temperature double")
    frame.withColumn(SILVER_BATCH, F.lit(batch_id).cast("bigint")).write.format("delta").mode("append").save(path)
    times = [moment for moment, _ in readings]
    return micros(min(times)), micros(max(times))


def gold_windows(spark, path: str) -> dict[int, tuple[int, float]]:
    """The minute after 08:00 each window starts at -> (readings, mean temperature)."""
    minute = (F.unix_micros("window_start") - micros(at(0, 0))) / 60_000_000
    rows = spark.read.format("delta").load(path).select(minute.cast("int").alias("minute"), "readings", "temperature_mean").collect()
    return {row["minute"]: (row["readings"], row["temperature_mean"]) for row in rows}


def refresher(tmp_path) -> WindowRefresher:
    return WindowRefresher(SETTINGS, str(tmp_path / "silver"), str(tmp_path / "gold"), "iot.silver:gold", every_seconds=0)


def test_noted_appends_set_the_span_and_a_late_reading_updates_its_window(spark, tmp_path):
    silver, gold = str(tmp_path / "silver"), str(tmp_path / "gold")
    refresh = refresher(tmp_path)
    refresh.appended(0, append_batch(spark, silver, 0, [(at(0, 10), 20.0), (at(1, 5), 22.0)]), observed=True)
    refresh.refresh(spark)
    assert gold_windows(spark, gold) == {0: (1, 20.0), 1: (1, 22.0)}

    refresh.appended(1, append_batch(spark, silver, 1, [(at(0, 50), 30.0)]), observed=True)  # late, into the first window
    refresh.appended(2, None, observed=True)  # a micro-batch without silver rows
    refresh.refresh(spark)
    assert gold_windows(spark, gold) == {0: (2, 25.0), 1: (1, 22.0)}


def test_the_span_comes_from_the_notes_not_from_a_query_of_silver(spark, tmp_path):
    silver, gold = str(tmp_path / "silver"), str(tmp_path / "gold")
    refresh = refresher(tmp_path)
    first_only = append_batch(spark, silver, 0, [(at(0, 10), 20.0)])
    append_batch(spark, silver, 0, [(at(5, 10), 40.0)])  # in silver, outside what the append observed
    refresh.appended(0, first_only, observed=True)
    refresh.refresh(spark)
    assert gold_windows(spark, gold) == {0: (1, 20.0)}


def test_a_restart_after_uncovered_batches_queries_silver(spark, tmp_path):
    silver, gold = str(tmp_path / "silver"), str(tmp_path / "gold")
    append_batch(spark, silver, 0, [(at(0, 10), 20.0)])
    append_batch(spark, silver, 1, [(at(3, 10), 24.0)])  # both committed by a run that died before gold's refresh

    restarted = refresher(tmp_path)
    restarted.appended(2, append_batch(spark, silver, 2, [(at(4, 10), 26.0)]), observed=True)
    restarted.refresh(spark)
    assert gold_windows(spark, gold) == {0: (1, 20.0), 3: (1, 24.0), 4: (1, 26.0)}


def test_a_replayed_batch_whose_span_was_not_observed_queries_silver(spark, tmp_path):
    silver, gold = str(tmp_path / "silver"), str(tmp_path / "gold")
    first_run = refresher(tmp_path)
    first_run.appended(0, append_batch(spark, silver, 0, [(at(0, 10), 20.0)]), observed=True)
    first_run.refresh(spark)
    append_batch(spark, silver, 1, [(at(2, 10), 30.0)])  # committed to silver, then the job died

    restarted = refresher(tmp_path)
    restarted.appended(1, None, observed=False)  # the replay appends nothing: an earlier run had
    restarted.refresh(spark)
    assert gold_windows(spark, gold) == {0: (1, 20.0), 2: (1, 30.0)}


def test_the_span_holds_in_any_session_time_zone(spark, tmp_path):
    silver, gold = str(tmp_path / "silver"), str(tmp_path / "gold")
    zone = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        refresh = refresher(tmp_path)
        refresh.appended(0, append_batch(spark, silver, 0, [(at(0, 10), 20.0), (at(1, 5), 22.0)]), observed=True)
        refresh.refresh(spark)
        refresh.appended(1, append_batch(spark, silver, 1, [(at(0, 50), 30.0)]), observed=True)
        refresh.refresh(spark)
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
    assert gold_windows(spark, gold) == {0: (2, 25.0), 1: (1, 22.0)}
