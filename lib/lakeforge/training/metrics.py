"""Model metrics from (label, score) arrays, with scikit-learn's definitions (the tests hold them equal)."""

from __future__ import annotations

import numpy as np

LOG_LOSS_EPS = np.finfo(np.float64).eps


def confusion(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """[[TN, FP], [FN, TP]], rows = actual, columns = predicted."""
    y_true, y_pred = y_true.astype(int), y_pred.astype(int)
    return np.bincount(2 * y_true + y_pred, minlength=4).reshape(2, 2)


def ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def f1(precision: float, recall: float) -> float:
    return ratio(2 * precision * recall, precision + recall)


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """Mann-Whitney U with average ranks for ties: the area under the ROC curve."""
    order = np.argsort(score, kind="mergesort")
    sorted_scores = score[order]
    ranks = np.empty(len(score))
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)
    positives = y_true.sum()
    negatives = len(y_true) - positives
    return float((ranks[y_true == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def average_precision(y_true: np.ndarray, score: np.ndarray) -> float:
    """PR-AUC as the step-wise sum of precision over recall increments (no interpolation)."""
    order = np.argsort(-score, kind="mergesort")
    y, s = y_true[order], score[order]
    last_of_tie = np.r_[np.diff(s) != 0, True]
    true_positives = np.cumsum(y)[last_of_tie]
    predicted = (np.arange(1, len(y) + 1))[last_of_tie]
    precision = true_positives / predicted
    recall = true_positives / y.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def log_loss(y_true: np.ndarray, probability: np.ndarray) -> float:
    p = np.clip(probability, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))


def classification_metrics(y_true: np.ndarray, probability: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Binary metrics: per positive class and macro over both classes; predicted 1 when p >= threshold."""
    y_true = y_true.astype(int)
    (tn, fp), (fn, tp) = confusion(y_true, probability >= threshold)
    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    precision_neg, recall_neg = ratio(tn, tn + fn), ratio(tn, tn + fp)
    return {
        "accuracy": ratio(tp + tn, len(y_true)),
        "precision": precision,
        "recall": recall,
        "f1": f1(precision, recall),
        "precision_macro": (precision + precision_neg) / 2,
        "recall_macro": (recall + recall_neg) / 2,
        "f1_macro": (f1(precision, recall) + f1(precision_neg, recall_neg)) / 2,
        "roc_auc": roc_auc(y_true, probability),
        "pr_auc": average_precision(y_true, probability),
        "log_loss": log_loss(y_true, probability),
        "tn": float(tn), "fp": float(fp), "fn": float(fn), "tp": float(tp),
    }


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAPE as a fraction, over all rows, with |y| floored at machine epsilon (as scikit-learn does)."""
    error = y_pred - y_true
    total = np.sum((y_true - y_true.mean()) ** 2)
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "r2": float(1 - np.sum(error**2) / total) if total else 0.0,
        "mape": float(np.mean(np.abs(error) / np.maximum(np.abs(y_true), np.finfo(np.float64).eps))),
    }


def baseline_metrics(task: str, y_train: np.ndarray, y_test: np.ndarray) -> dict[str, float]:
    """What predicting the training majority class (or mean) everywhere scores on the test rows."""
    if task == "classification":
        prior = float(y_train.mean())
        return classification_metrics(y_test, np.full(len(y_test), prior), threshold=0.5)
    return regression_metrics(y_test, np.full(len(y_test), float(y_train.mean())))


def summarize(folds: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and (population) standard deviation of each metric over folds."""
    return {key: {"mean": float(np.mean([f[key] for f in folds])), "std": float(np.std([f[key] for f in folds]))} for key in folds[0]}
