"""Class weights that make each class count as much as the others, whatever its share of the rows."""

from __future__ import annotations

from pyspark.sql import DataFrame


def balanced_weights(frame: DataFrame, label: str) -> dict:
    """n / (classes * n_class) per class, as scikit-learn's class_weight='balanced'."""
    counts = {row[label]: row["count"] for row in frame.groupBy(label).count().collect()}
    total = sum(counts.values())
    return {value: total / (len(counts) * count) for value, count in counts.items()}
