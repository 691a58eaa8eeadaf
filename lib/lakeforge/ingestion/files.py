"""Files (CSV, JSON, JSON Lines, Parquet, XML) -> bronze, incrementally, by Structured Streaming."""

from __future__ import annotations

import os
from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from lakeforge.config.models import FileSource
from lakeforge.ingestion.micro_batches import run_micro_batches

CORRUPT = "_corrupt_record"

EXTENSION_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".xml": "xml"}

# Text formats keep malformed records in a corrupt-record column instead of failing or dropping them.
TEXT_FORMATS = {"csv", "json", "jsonl", "xml"}


def is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def resolve_format(source: FileSource, directory: str) -> str:
    """The configured format, else the one extension shared by the files already there."""
    if source.format:
        return source.format
    if not is_local(directory):
        raise ValueError(f"set `format` for {directory}: it is only inferred for local folders")
    extensions = {os.path.splitext(name)[1].lower() for name in os.listdir(directory) if not name.startswith((".", "_"))}
    formats = {EXTENSION_FORMATS.get(ext) for ext in extensions}
    if len(formats) != 1 or None in formats:
        raise ValueError(
            f"cannot infer the file format of {directory}: extensions {sorted(extensions)}; "
            f"set `format` to one of {sorted(set(EXTENSION_FORMATS.values()))}"
        )
    return formats.pop()


def raw_schema(source: FileSource, fmt: str) -> StructType:
    fields = [StructField(name, StringType() if fmt in TEXT_FORMATS else _parse_type(kind), True) for name, kind in source.schema_.items()]
    if fmt in TEXT_FORMATS:
        fields.append(StructField(CORRUPT, StringType(), True))
    return StructType(fields)


def _parse_type(kind: str):
    return StructType.fromDDL(f"v {kind}").fields[0].dataType


def read_options(source: FileSource, fmt: str) -> dict[str, str]:
    options = {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in source.options.items()}
    if fmt == "csv" and options.get("header") == "true":
        # Check the header against the schema: a reordered or renamed column is an error, not shifted data.
        options.setdefault("enforceSchema", "false")
    if fmt in TEXT_FORMATS:
        options.setdefault("mode", "PERMISSIVE")
        options.setdefault("columnNameOfCorruptRecord", CORRUPT)
    if source.max_files_per_batch:
        options["maxFilesPerTrigger"] = str(source.max_files_per_batch)
    return options


def stream_new_files(spark: SparkSession, source: FileSource, directory: str) -> DataFrame:
    """A streaming read of the files under `directory`; the checkpoint remembers which were read."""
    fmt = resolve_format(source, directory)
    reader = spark.readStream.format("json" if fmt == "jsonl" else fmt).schema(raw_schema(source, fmt)).options(**read_options(source, fmt))
    df = reader.load(directory)
    return df.withColumn("_source_ref", F.col("_metadata.file_path"))


def ingest_new_files(
    spark: SparkSession,
    source: FileSource,
    directory: str,
    checkpoint: str,
    process_batch: Callable[[DataFrame, int], None],
) -> None:
    """Run one availableNow pass: every file not ingested before goes through `process_batch` once."""
    if is_local(directory):
        os.makedirs(directory, exist_ok=True)  # an empty landing folder is a run with nothing new
    run_micro_batches(stream_new_files(spark, source, directory), checkpoint, process_batch, trigger={"availableNow": True})
