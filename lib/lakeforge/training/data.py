"""Extract: read the training data (gold table, CSV, Parquet or Delta) and say which version it was."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from lakeforge.tables.layout import Lakehouse
from lakeforge.training.config import DataSpec


@dataclass(frozen=True)
class DataIdentity:
    """Enough to find the exact rows again: a Delta table's version, or the files' content hash."""

    path: str
    format: str
    version: str  # "delta:<n>" or "sha256:<hex>"

    def as_params(self) -> dict[str, str]:
        return {"data_path": self.path, "data_format": self.format, "data_version": self.version}


def resolve_path(spec: DataSpec, lakehouse_root: str) -> str:
    return spec.path if spec.path is not None else Lakehouse(lakehouse_root).gold(spec.gold_table)


def detect_format(path: str) -> str:
    local = Path(path)
    if not local.exists():
        raise FileNotFoundError(f"no file or folder at {path} (remote storage: set data.format explicitly)")
    if (local / "_delta_log").is_dir():
        return "delta"
    files = [local] if local.is_file() else data_files(local)
    suffix = files[0].suffix.lower() if files else ""
    if suffix in (".csv", ".parquet"):
        return suffix[1:]
    raise ValueError(f"cannot tell the format of {path}: expected a Delta table, *.csv or *.parquet (or set data.format)")


def read_data(spark: SparkSession, spec: DataSpec, lakehouse_root: str) -> tuple[DataFrame, DataIdentity]:
    """CSV is read as text on purpose: numbers stored with blanks are recognised later, not guessed here."""
    path = resolve_path(spec, lakehouse_root)
    fmt = spec.format or detect_format(path)
    if fmt == "csv":
        frame = spark.read.options(**spec.csv_options).csv(path)
    else:
        frame = spark.read.format(fmt).load(path)
    return frame, DataIdentity(path=path, format=fmt, version=data_version(spark, path, fmt))


def data_version(spark: SparkSession, path: str, fmt: str) -> str:
    if fmt == "delta":
        from delta.tables import DeltaTable

        version = DeltaTable.forPath(spark, path).history(1).select("version").first()[0]
        return f"delta:{version}"
    return f"sha256:{files_sha256(path)}"


def data_files(folder: Path) -> list[Path]:
    """Files under a table or output folder, without Spark's and Delta's bookkeeping (_SUCCESS, .crc, _delta_log)."""
    return sorted(f for f in folder.rglob("*") if f.is_file() and not any(p.startswith(("_", ".")) for p in f.relative_to(folder).parts))


def files_sha256(path: str) -> str:
    """Hash of every data file under path (relative names and bytes, in name order)."""
    root = Path(path)
    files = [root] if root.is_file() else data_files(root)
    if not files:
        raise FileNotFoundError(f"no data files at {path}")
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(root) if root.is_dir() else file.name).encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
