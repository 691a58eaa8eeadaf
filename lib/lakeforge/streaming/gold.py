"""Silver -> gold: per device, tumbling event-time windows with count, mean, min, max and stddev."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.streaming.config import GoldSettings, interval_seconds
from lakeforge.streaming.silver import SILVER_BATCH
from lakeforge.streaming.sink import commit_marker, last_committed_batch
from lakeforge.tables import delta

KEYS = ["device_id", "window_start"]


def window_aggregates(metrics: list[str], window: str) -> Callable[[DataFrame], DataFrame]:
    """One row per (device_id, window): the same on a stream and on a batch, so gold can be checked
    against a recomputation from silver."""

    def transform(df: DataFrame) -> DataFrame:
        stats = [
            stat
            for metric in metrics
            for stat in (
                F.avg(metric).alias(f"{metric}_mean"),
                F.min(metric).alias(f"{metric}_min"),
                F.max(metric).alias(f"{metric}_max"),
                F.stddev_samp(metric).alias(f"{metric}_stddev"),
            )
        ]
        grouped = df.groupBy("device_id", F.window("event_time", window).alias("window"))
        return grouped.agg(F.count(F.lit(1)).alias("readings"), *stats).select(
            "device_id",
            F.col("window.start").alias("window_start"),
            F.col("window.end").alias("window_end"),
            "readings",
            *[F.col(f"{metric}_{stat}") for metric in metrics for stat in ("mean", "min", "max", "stddev")],
        )

    return transform


def windowed_stream(silver: DataFrame, settings: GoldSettings) -> DataFrame:
    """Late rows within the watermark update their window (emitted again in update mode); later rows
    are dropped by Spark and counted in the progress table (rows_dropped_by_watermark)."""
    return silver.withWatermark("event_time", settings.watermark).transform(window_aggregates(settings.metrics, settings.window))


def merge_windows(gold_path: str):
    """foreachBatch writer: each updated window replaces its row, so a replayed batch changes nothing."""

    def write(batch: DataFrame, _batch_id: int) -> None:
        if not batch.isEmpty():
            delta.merge_upsert(batch.sparkSession, batch, gold_path, KEYS, latest_by=None)

    return write


def instant(epoch_micros: int) -> str:
    """A SQL timestamp literal of an instant, in UTC with its offset: the same in any session time zone."""
    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=epoch_micros)
    return f"TIMESTAMP '{moment:%Y-%m-%d %H:%M:%S.%f}+00:00'"


Note = tuple[int, tuple[int, int] | None, bool]  # an append silver noted: batch id, event span (epoch µs), observed


@dataclass(frozen=True)
class Span:
    """Gold windows to recompute: window starts first..last and the end of the last (epoch
    microseconds), covering silver's batches up to last_batch."""

    first: int
    last: int
    end: int
    last_batch: int


class WindowRefresher:
    """Gold kept by the single-pass query: the windows that silver rows of batches not yet covered fall
    in are recomputed from silver and replace gold's rows of that time span in one overwrite
    (replaceWhere), at most once per `every_seconds`.

    A recomputation is the same however often it runs, so a crash between silver's commit and gold's
    loses nothing: the overwrite's commit marks the last silver batch it covered (`<writer>@<batch>`), and
    the next refresh, in this run or the next, starts after it. Unlike the gold query's streaming
    aggregate, no row silver holds is left out as late.

    The span comes from the event times silver's appends observed (`appended`), when those cover every
    batch since the last refresh; otherwise (the first refresh after a restart, a replayed batch) from
    a query of silver's new batches (0.65-1.4 s of a 3-4.5 s refresh at 1,000 readings/s here).
    """

    def __init__(self, settings: GoldSettings, silver_path: str, gold_path: str, writer: str, every_seconds: float):
        self.settings, self.silver_path, self.gold_path, self.writer = settings, silver_path, gold_path, writer
        self.every_seconds = every_seconds
        self.window_micros = round(interval_seconds(settings.window) * 1_000_000)
        self._covered: int | None = None  # the last silver batch in gold; read from gold's history once per run
        self._last_refresh = float("-inf")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gold-refresh")
        self._running: Future | None = None
        self._noted: list[Note] = []  # since the last refresh
        self._lock = threading.Lock()
        self._synced = False  # a refresh of this run has run: every batch after the covered one is noted

    def appended(self, batch_id: int, event_micros: tuple[int, int] | None, observed: bool) -> None:
        """Silver's micro-batch `batch_id` appended rows with event times in `event_micros` (None: no
        rows); observed False: it appended nothing because an earlier run had (its span is unknown)."""
        with self._lock:
            self._noted.append((batch_id, event_micros, observed))

    def due(self) -> bool:
        return time.monotonic() - self._last_refresh >= self.every_seconds

    def refresh_in_background(self, spark: SparkSession) -> None:
        """Start a refresh on a thread of its own when due and none is running, so silver's next
        micro-batch does not wait for gold; a refresh that failed raises here, in the query's thread."""
        if self._running is not None and self._running.done():
            running, self._running = self._running, None
            running.result()
        if self._running is None and self.due():
            self._last_refresh = time.monotonic()
            self._running = self._pool.submit(self.refresh, spark)

    def finish(self, spark: SparkSession) -> None:
        """Wait for a running refresh, then bring gold up to every silver batch (the job is stopping)."""
        running, self._running = self._running, None
        if running is not None:
            running.result()
        self.refresh(spark)

    def refresh(self, spark: SparkSession) -> None:
        """Bring gold up to every silver batch committed so far."""
        self._last_refresh = time.monotonic()
        with self._lock:
            noted, self._noted = self._noted, []
        if not delta.exists(spark, self.silver_path):
            return
        if self._covered is None:
            self._covered = last_committed_batch(spark, self.gold_path, self.writer)
            self._covered = -1 if self._covered is None else self._covered
        silver = spark.read.format("delta").load(self.silver_path)
        later = self._noted_after_covered(noted)
        span = self._queried_span(silver) if later is None else self._noted_span(later)
        self._synced = True
        if span is None:
            if later:
                self._covered = later[-1][0]  # batches without rows: nothing of gold changes
            return
        # Every window from first to last is recomputed from all of silver's rows in it and replaces
        # what gold holds there: one overwrite of that span, no join with gold. The bounds are
        # timestamp literals with their offset (whatever the session's time zone), which Delta skips
        # files by.
        first, last, end = (instant(bound) for bound in (span.first, span.last, span.end))
        rows = silver.where((F.col("event_time") >= F.expr(first)) & (F.col("event_time") < F.expr(end)))
        windows = rows.transform(window_aggregates(self.settings.metrics, self.settings.window))
        writer = windows.write.format("delta").option("userMetadata", commit_marker(self.writer, span.last_batch))
        if delta.exists(spark, self.gold_path):
            writer = writer.mode("overwrite").option("replaceWhere", f"window_start >= {first} AND window_start <= {last}")
        writer.save(self.gold_path)
        self._covered = span.last_batch

    def _noted_after_covered(self, noted: list[Note]) -> list[Note] | None:
        """The appends noted after the covered batch, if they observed every batch after it (None: a
        query of silver must find the span). Before the first refresh of a run, batches of an earlier
        run may be uncovered: notes that start right after the covered batch show there are none."""
        later = [note for note in noted if note[0] > self._covered]
        batches = [batch for batch, _, _ in later]
        contiguous = batches == list(range(self._covered + 1, self._covered + 1 + len(batches)))
        trusted = (bool(later) or self._synced) and contiguous and all(observed for _, _, observed in later)
        return later if trusted else None

    def _noted_span(self, noted: list[Note]) -> Span | None:
        spans = [span for _, span, _ in noted if span is not None]
        if not spans:
            return None
        # Tumbling windows start at multiples of their length from the epoch, as Spark's window() does.
        first = min(first for first, _ in spans) // self.window_micros * self.window_micros
        last = max(last for _, last in spans) // self.window_micros * self.window_micros
        return Span(first, last, last + self.window_micros, noted[-1][0])

    def _queried_span(self, silver: DataFrame) -> Span | None:
        window = F.window("event_time", self.settings.window)
        row = (
            silver.where(F.col(SILVER_BATCH) > self._covered)
            .agg(*[F.unix_micros(bound) for bound in (F.min(window.start), F.max(window.start), F.max(window.end))], F.max(SILVER_BATCH))
            .first()
        )
        return None if row[3] is None else Span(*row)
