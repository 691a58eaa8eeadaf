"""Decision threshold chosen on out-of-fold predictions (never on the test set)."""

from __future__ import annotations

import numpy as np

from lakeforge.training.config import ThresholdSpec


def threshold_counts(y_true: np.ndarray, probability: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every distinct cut t (predict 1 when p >= t) with its true- and false-positive counts."""
    order = np.argsort(-probability, kind="mergesort")
    y, p = y_true[order].astype(int), probability[order]
    last_of_tie = np.r_[np.diff(p) != 0, True]
    true_positives = np.cumsum(y)[last_of_tie]
    false_positives = np.cumsum(1 - y)[last_of_tie]
    return p[last_of_tie], true_positives, false_positives


def best_threshold(y_true: np.ndarray, probability: np.ndarray, spec: ThresholdSpec) -> float:
    """max_f1: the cut with the highest F1 of the positive class; cost: the cheapest cut (FP costs 1)."""
    if spec.strategy == "none":
        return 0.5
    cuts, tp, fp = threshold_counts(y_true, probability)
    positives = int(y_true.sum())
    fn = positives - tp
    if spec.strategy == "max_f1":
        score = 2 * tp / (2 * tp + fp + fn)
    else:
        score = -(spec.false_negative_cost * fn + fp)
    return float(cuts[int(np.argmax(score))])
