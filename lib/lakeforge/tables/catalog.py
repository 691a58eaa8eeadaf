"""What tables the lakehouse holds: layer, name, Delta version and row count."""

from __future__ import annotations

import os

from pyspark.sql import SparkSession

from lakeforge.tables import delta
from lakeforge.tables.layout import LAYERS, Lakehouse


def list_tables(spark: SparkSession, lakehouse: Lakehouse) -> list[dict]:
    """Every Delta table under the root (local filesystem layout), with its latest version and rows."""
    tables = []
    for layer in LAYERS:
        folder = os.path.join(lakehouse.root, layer)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            path = lakehouse.table(layer, name)
            if not delta.exists(spark, path):
                continue
            tables.append(
                {
                    "layer": layer,
                    "table": name,
                    "version": delta.version_of(spark, path),
                    "rows": spark.read.format("delta").load(path).count(),
                    "path": path,
                }
            )
    return tables
