"""Where the IoT audit keeps what it has not recorded yet, so a killed job's last window is not lost.

The audit records its micro-batches one window at a time; the journal holds the open window's
batches (as the listener sees them), the window being recorded until its audit rows are in, and,
per query, the last batch already recorded. A job killed before it records a window leaves the
journal behind, and the next run records that window first.
Batches committed in the checkpoint that the journal never saw (a kill between a commit and its
progress event, which for a JVM's first batches can come seconds late) are read back from the
checkpoint's offsets.

Files go through Hadoop's FileSystem, so the journal lives wherever the lakehouse does (local, S3,
DBFS). A write goes to `<path>.tmp` first and replaces the journal after; a kill between the two
leaves one of them whole, and `load` takes the journal, else the tmp file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from pyspark.sql import SparkSession


@dataclass(frozen=True)
class BatchRead:
    """What one micro-batch of a query read, as Spark's progress reports it (not as its writer saw it)."""

    query: str  # the stage: bronze or silver
    batch_id: int
    rows: int | None  # Kafka: offsets between start and end; other sources: the rows the source returned
    deduplicated: int | None  # dropped by de-duplication; None: not known (no progress was seen)


@dataclass(frozen=True)
class Window:
    """Micro-batches to be recorded as one audit run."""

    run_id: str
    opened: str  # ISO 8601
    batches: list[BatchRead]


@dataclass
class Journal:
    # Windows not known to be in the audit table yet: one being recorded (its rows may have landed
    # just before a kill: the audit table tells), then the open one.
    windows: list[Window] = field(default_factory=list)
    recorded: dict[str, int] = field(default_factory=dict)  # stage -> last batch id in the audit table

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Journal:
        document = json.loads(text)
        windows = [Window(window["run_id"], window["opened"], [BatchRead(**batch) for batch in window["batches"]]) for window in document["windows"]]
        return cls(windows=windows, recorded={stage: int(batch) for stage, batch in document["recorded"].items()})


class HadoopFiles:
    """Small text files through the JVM's Hadoop FileSystem of the session."""

    def __init__(self, spark: SparkSession, folder: str) -> None:
        self._jvm = spark._jvm
        self._conf = spark._jsc.hadoopConfiguration()
        self._folder = folder

    def _path(self, name: str):
        path = self._jvm.org.apache.hadoop.fs.Path(f"{self._folder}/{name}")
        return path, path.getFileSystem(self._conf)

    def read(self, name: str) -> str | None:
        path, fs = self._path(name)
        if not fs.exists(path):
            return None
        stream = fs.open(path)
        try:
            return self._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
        finally:
            stream.close()

    def write(self, name: str, text: str) -> None:
        """Replace `name`: written beside it first, so a kill leaves the old file or the new one whole."""
        path, fs = self._path(name)
        staged, _ = self._path(f"{name}.tmp")
        out = fs.create(staged, True)
        try:
            out.write(bytearray(text.encode("utf-8")))
        finally:
            out.close()
        fs.delete(path, False)
        fs.rename(staged, path)

    def numbered(self, folder: str) -> list[int]:
        """The numeric file names in a sub-folder (a checkpoint's offsets/ or commits/), sorted."""
        path, fs = self._path(folder)
        if not fs.exists(path):
            return []
        return sorted(int(name) for name in (status.getPath().getName() for status in fs.listStatus(path)) if name.isdigit())


class JournalFile:
    """The journal of one streaming job, beside its checkpoints."""

    NAME = "_audit_journal.json"

    def __init__(self, spark: SparkSession, folder: str) -> None:
        self._files = HadoopFiles(spark, folder)

    def load(self) -> Journal | None:
        for name in (self.NAME, f"{self.NAME}.tmp"):
            text = self._files.read(name)
            if text is None:
                continue
            try:
                return Journal.from_json(text)
            except (ValueError, KeyError, TypeError):
                continue  # cut short by a kill: the other file is whole
        return None

    def save(self, journal: Journal) -> None:
        self._files.write(self.NAME, journal.to_json())


class Checkpoint:
    """What a query's checkpoint says about its committed micro-batches."""

    def __init__(self, spark: SparkSession, folder: str) -> None:
        self._files = HadoopFiles(spark, folder)

    def committed(self) -> list[int]:
        return self._files.numbered("commits")

    def source_offset(self, batch_id: int) -> str | None:
        """The end offset of the first source after batch `batch_id` (offsets/N: a version line, the
        batch's metadata, then one offset per source)."""
        text = self._files.read(f"offsets/{batch_id}")
        lines = text.splitlines() if text else []
        return lines[2] if len(lines) > 2 else None

    def initial_offset(self) -> str | None:
        """Where the first source started (the start of batch 0): Kafka's source keeps it in sources/0/0,
        a version line then the offsets as JSON."""
        text = self._files.read("sources/0/0")
        last = text.strip().splitlines()[-1] if text and text.strip() else ""
        return last if last.startswith("{") else None
