"""Evaluation plots as matplotlib figures (the report writer saves them)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and clusters

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lakeforge.training.thresholds import threshold_counts  # noqa: E402

Curves = list[tuple[str, np.ndarray, np.ndarray]]  # (model name, labels, scores)


def roc_figure(curves: Curves) -> Figure:
    figure, axis = plt.subplots(figsize=(5, 5))
    for name, label, score in curves:
        _, tp, fp = threshold_counts(label, score)
        axis.plot(np.r_[0, fp / (len(label) - label.sum())], np.r_[0, tp / label.sum()], label=name)
    axis.plot([0, 1], [0, 1], "k:", linewidth=1)
    axis.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (test)")
    axis.legend(loc="lower right")
    return figure


def pr_figure(curves: Curves) -> Figure:
    figure, axis = plt.subplots(figsize=(5, 5))
    for name, label, score in curves:
        _, tp, fp = threshold_counts(label, score)
        axis.step(tp / label.sum(), tp / (tp + fp), where="post", label=name)
    axis.axhline(curves[0][1].mean(), color="k", linestyle=":", linewidth=1)
    axis.set(xlabel="recall", ylabel="precision", title="Precision-recall (test)", ylim=(0, 1.02))
    axis.legend(loc="upper right")
    return figure


def confusion_figure(tn: float, fp: float, fn: float, tp: float, title: str) -> Figure:
    figure, axis = plt.subplots(figsize=(4, 4))
    matrix = np.array([[tn, fp], [fn, tp]])
    axis.imshow(matrix, cmap="Blues")
    for (row, column), value in np.ndenumerate(matrix):
        axis.text(column, row, f"{int(value)}", ha="center", va="center", color="black")
    axis.set(xticks=[0, 1], yticks=[0, 1], xticklabels=["0", "1"], yticklabels=["0", "1"], xlabel="predicted", ylabel="actual", title=title)
    return figure


def calibration_figure(curves: Curves, bins: int = 10) -> Figure:
    figure, axis = plt.subplots(figsize=(5, 5))
    edges = np.linspace(0, 1, bins + 1)
    for name, label, score in curves:
        which = np.clip(np.digitize(score, edges) - 1, 0, bins - 1)
        filled = [b for b in range(bins) if np.any(which == b)]
        axis.plot([score[which == b].mean() for b in filled], [label[which == b].mean() for b in filled], "o-", label=name)
    axis.plot([0, 1], [0, 1], "k:", linewidth=1)
    axis.set(xlabel="mean predicted probability", ylabel="observed positive rate", title="Calibration (test)")
    axis.legend(loc="upper left")
    return figure


def importance_figure(ranked: list[tuple[str, float]], signed: bool, title: str, top: int = 20, xlabel: str | None = None) -> Figure:
    shown = ranked[:top][::-1]
    figure, axis = plt.subplots(figsize=(7, 0.3 * len(shown) + 1.5))
    axis.barh([name for name, _ in shown], [value for _, value in shown], color=["tab:red" if v < 0 else "tab:blue" for _, v in shown])
    axis.set(xlabel=xlabel or ("coefficient (standardised features)" if signed else "importance"), title=title)
    figure.tight_layout()
    return figure


def residuals_figure(actual: np.ndarray, predicted: np.ndarray, title: str) -> Figure:
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.scatter(predicted, actual - predicted, s=4, alpha=0.4)
    axis.axhline(0, color="k", linewidth=1)
    axis.set(xlabel="predicted", ylabel="actual - predicted", title=title)
    return figure


def predicted_vs_actual_figure(actual: np.ndarray, predicted: np.ndarray, title: str) -> Figure:
    figure, axis = plt.subplots(figsize=(5, 5))
    axis.scatter(actual, predicted, s=4, alpha=0.4)
    low, high = float(min(actual.min(), predicted.min())), float(max(actual.max(), predicted.max()))
    axis.plot([low, high], [low, high], "k:", linewidth=1)
    axis.set(xlabel="actual", ylabel="predicted", title=title)
    return figure
