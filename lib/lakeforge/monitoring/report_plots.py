"""Monitoring report figures: baseline against current distributions, metrics over time."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and clusters

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lakeforge.quality.profile import NUMERIC, FeatureProfile  # noqa: E402


def current_shares(profile: FeatureProfile, values: pd.Series) -> tuple[list[str], list[float], list[float]]:
    """(bin or category names, training shares, current shares) over the profile's PSI bins or categories."""
    present = values.dropna()
    if profile.kind == NUMERIC:
        edges = [-np.inf, *profile.psi_edges, np.inf]
        counts = np.histogram(present.astype(float), edges)[0]
        names = [f"<{profile.psi_edges[0]:g}" if i == 0 else f">={edges[i]:g}" for i in range(len(edges) - 1)]
        return names, profile.psi_shares(), list(counts / max(len(present), 1))
    categories = sorted(set(profile.frequencies) | set(present.unique()))
    current = present.value_counts(normalize=True)
    return categories, [profile.frequencies.get(c, 0.0) for c in categories], [float(current.get(c, 0.0)) for c in categories]


def distribution_figure(profile: FeatureProfile, values: pd.Series, window: str) -> Figure:
    names, baseline, current = current_shares(profile, values)
    figure, axis = plt.subplots(figsize=(6, 3))
    positions = np.arange(len(names))
    axis.bar(positions - 0.2, baseline, width=0.4, label="training")
    axis.bar(positions + 0.2, current, width=0.4, label=window)
    axis.set_xticks(positions, names, rotation=45, ha="right", fontsize=7)
    axis.set(title=profile.name, ylabel="share of rows")
    axis.legend()
    figure.tight_layout()
    return figure


def over_time_figure(frame: pd.DataFrame, metrics: list[str], by: str, title: str) -> Figure:
    """One line per (metric, value of `by`) against window_start."""
    figure, axis = plt.subplots(figsize=(7, 3.5))
    for metric in metrics:
        for key, part in frame.dropna(subset=[metric]).sort_values("window_start").groupby(by):
            axis.plot(part["window_start"], part[metric], marker="o", label=f"{metric} {key}")
    axis.set(title=title, xlabel="window")
    axis.legend(fontsize=7, ncol=2)
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure
