"""Test-set metrics and the figures people look at: confusion matrix and misclassified images."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support  # noqa: E402


def classification_metrics(actual: pd.Series, predicted: pd.Series, classes: list[str]) -> dict:
    """accuracy, macro F1 and per-class precision / recall / F1 / support."""
    precision, recall, f1, support = precision_recall_fscore_support(actual, predicted, labels=classes, zero_division=0)
    per_class = {
        name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for name, p, r, f, s in zip(classes, precision, recall, f1, support)
    }
    return {"accuracy": float(accuracy_score(actual, predicted)), "macro_f1": float(np.mean(f1)), "per_class": per_class}


def confusion_figure(actual: pd.Series, predicted: pd.Series, classes: list[str]) -> Figure:
    matrix = confusion_matrix(actual, predicted, labels=classes)
    figure, axis = plt.subplots(figsize=(1.2 * len(classes) + 2, 1.2 * len(classes) + 1.5))
    axis.imshow(matrix, cmap="Blues")
    for (row, column), value in np.ndenumerate(matrix):
        axis.text(column, row, str(value), ha="center", va="center")
    ticks = range(len(classes))
    axis.set(xticks=ticks, yticks=ticks, xticklabels=classes, yticklabels=classes, xlabel="predicted", ylabel="actual",
             title="Confusion matrix (test)")
    plt.setp(axis.get_xticklabels(), rotation=45, ha="right")
    figure.tight_layout()
    return figure


def misclassified_figure(rows: pd.DataFrame, limit: int = 24) -> Figure:
    """A grid of wrongly classified images titled actual -> predicted (rows: image, label, prediction)."""
    wrong = rows[rows["label"] != rows["prediction"]].head(limit)
    columns = 6
    figure, axes = plt.subplots(max(1, -(-len(wrong) // columns)), columns, figsize=(2 * columns, 2.2 * max(1, -(-len(wrong) // columns))))
    for axis in np.ravel(axes):
        axis.axis("off")
    for axis, row in zip(np.ravel(axes), wrong.itertuples()):
        axis.imshow(Image.open(io.BytesIO(row.image)).convert("RGB"))
        axis.set_title(f"{row.label} -> {row.prediction}", fontsize=8)
    figure.suptitle(f"Misclassified test images ({len(wrong)} shown)" if len(wrong) else "No misclassified test images")
    return figure
