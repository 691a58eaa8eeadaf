"""Micro-batch progress of every streaming query, recorded to a Delta table for `lakeforge streams`."""

from __future__ import annotations

import json
import threading
from datetime import datetime

from pyspark import SparkContext
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQueryListener
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType, TimestampType

from lakeforge.reporting import format_table
from lakeforge.tables import delta

PROGRESS_SCHEMA = StructType(
    [
        StructField("query", StringType()),
        StructField("run_id", StringType()),
        StructField("batch_id", LongType()),
        StructField("started_at", TimestampType()),
        StructField("batch_duration_ms", LongType()),
        StructField("num_input_rows", LongType()),
        StructField("input_rows_per_second", DoubleType()),
        StructField("processed_rows_per_second", DoubleType()),
        StructField("watermark", TimestampType()),
        StructField("state_rows", LongType()),
        StructField("rows_dropped_by_watermark", LongType()),
        StructField("duplicates_dropped", LongType()),
    ]
)


def _timestamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None) if text else None


def progress_row(progress: dict) -> dict:
    """The columns of PROGRESS_SCHEMA from a progress document (StreamingQueryProgress.json)."""
    states = progress.get("stateOperators") or []
    return {
        "query": progress["name"],
        "run_id": progress["runId"],
        "batch_id": progress["batchId"],
        "started_at": _timestamp(progress["timestamp"]),
        "batch_duration_ms": (progress.get("durationMs") or {}).get("triggerExecution"),
        "num_input_rows": progress["numInputRows"],
        # Spark leaves a rate out of the document when it is not a number (no time has passed).
        "input_rows_per_second": float(progress.get("inputRowsPerSecond") or 0.0),
        "processed_rows_per_second": float(progress.get("processedRowsPerSecond") or 0.0),
        "watermark": _timestamp((progress.get("eventTime") or {}).get("watermark")),
        "state_rows": sum(state["numRowsTotal"] for state in states),
        "rows_dropped_by_watermark": sum(state["numRowsDroppedByWatermark"] for state in states),
        "duplicates_dropped": sum(int((state.get("customMetrics") or {}).get("numDroppedDuplicateRows", 0)) for state in states),
    }


class ProgressListener(StreamingQueryListener):
    """A listener handed each micro-batch's progress as its JSON document, in one Py4J call.

    PySpark's own listener builds the event field by field over Py4J, over a hundred calls per event,
    many resolved by reflection in the JVM: with two listeners and 1 s micro-batches, about a tenth of
    the driver JVM's CPU, taken from the micro-batches themselves. Callbacks run on Spark's listener
    thread and must return quickly.
    """

    def on_progress(self, progress: dict) -> None:
        raise NotImplementedError

    @property
    def _jlistener(self):  # what StreamingQueryManager.addListener/removeListener register
        if not hasattr(self, "_json_listener"):
            self._json_listener = SparkContext._jvm.PythonStreamingQueryListenerWrapper(_JsonProgressEvents(self))
        return self._json_listener

    def onQueryStarted(self, event) -> None:
        pass

    def onQueryProgress(self, event) -> None:  # reached only where PySpark converts events itself
        self.on_progress(json.loads(event.progress.json))

    def onQueryIdle(self, event) -> None:
        pass

    def onQueryTerminated(self, event) -> None:
        pass


class _JsonProgressEvents:
    """The JVM's side of a ProgressListener (a Py4J proxy of PythonStreamingQueryListener)."""

    def __init__(self, listener: ProgressListener) -> None:
        self.listener = listener

    def onQueryStarted(self, jevent) -> None:
        pass

    def onQueryProgress(self, jevent) -> None:
        self.listener.on_progress(json.loads(jevent.progress().json()))

    def onQueryIdle(self, jevent) -> None:
        pass

    def onQueryTerminated(self, jevent) -> None:
        pass

    class Java:
        implements = ["org.apache.spark.sql.streaming.PythonStreamingQueryListener"]


class ProgressRecorder(ProgressListener):
    """Buffers each query's progress in memory; `flush` appends the buffer to the progress table from
    the job's own thread."""

    def __init__(self) -> None:
        self._rows: list[dict] = []
        self._lock = threading.Lock()

    def on_progress(self, progress: dict) -> None:
        with self._lock:
            self._rows.append(progress_row(progress))

    def flush(self, spark: SparkSession, path: str) -> int:
        with self._lock:
            rows, self._rows = self._rows, []
        if rows:
            delta.append(spark.createDataFrame(rows, PROGRESS_SCHEMA), path)
        return len(rows)


def latest_progress(spark: SparkSession, path: str) -> list[dict]:
    """The newest recorded batch of each query, plus its totals over the run it belongs to."""
    if not delta.exists(spark, path):
        return []
    progress = spark.read.format("delta").load(path)
    latest_run = progress.groupBy("query").agg(F.max_by("run_id", "started_at").alias("run_id"))
    of_run = progress.join(latest_run, ["query", "run_id"])
    totals = of_run.groupBy("query").agg(
        F.count(F.lit(1)).alias("batches"),
        F.sum("num_input_rows").alias("rows"),
        F.sum("rows_dropped_by_watermark").alias("late_dropped"),
        F.sum("duplicates_dropped").alias("duplicates"),
        F.max_by(F.struct("batch_id", "started_at", "batch_duration_ms", "processed_rows_per_second", "watermark", "state_rows"), "started_at").alias("last"),
    )
    return [row.asDict(recursive=True) for row in totals.orderBy("query").collect()]


def format_progress(rows: list[dict]) -> str:
    """`latest_progress` as a text table, one line per query."""
    headers = ["query", "batches", "rows", "duplicates", "late_dropped", "last_batch", "last_ms", "rows/s", "watermark", "state_rows"]
    table = [
        [r["query"], r["batches"], r["rows"], r["duplicates"], r["late_dropped"], r["last"]["batch_id"], r["last"]["batch_duration_ms"],
         round(r["last"]["processed_rows_per_second"]), r["last"]["watermark"], r["last"]["state_rows"]]
        for r in rows
    ]
    return format_table(headers, table)
