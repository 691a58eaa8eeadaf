"""Per-feature profile of training data, saved beside the model: the baseline drift monitors compare
production inputs with.

Numbers keep their empirical CDF (every distinct value with the share of values at or below it, or
`max_points` quantiles when there are more), from which both PSI bins and the Kolmogorov-Smirnov
statistic are computed later; categories keep their frequencies; both keep their null rate.
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field

import numpy as np
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

PROFILE_ARTIFACT = "profile/training_profile.json"  # under the training run's artifacts
SCORE_FEATURE = "__score"  # the model's score, profiled like a numeric feature
NUMERIC, CATEGORICAL = "numeric", "categorical"


def numeric_value(column: Column) -> Column:
    """A double from numbers or number text; blanks and unparsable text are null."""
    return F.trim(column.cast("string")).try_cast("double")


def category_value(column: Column) -> Column:
    text = F.trim(column.cast("string"))
    return F.when(text != "", text)


@dataclass(frozen=True)
class FeatureProfile:
    name: str
    kind: str  # numeric | categorical
    rows: int
    null_rate: float
    points: list[float] = field(default_factory=list)  # numeric: ascending values of the CDF
    cdf: list[float] = field(default_factory=list)  # share of non-null values <= each point
    psi_edges: list[float] = field(default_factory=list)  # numeric: inner edges of the PSI bins
    frequencies: dict[str, float] = field(default_factory=dict)  # categorical: share of non-null rows

    def cdf_at(self, value: float) -> float:
        """Share of the training values <= value."""
        index = bisect.bisect_right(self.points, value) - 1
        return self.cdf[index] if index >= 0 else 0.0

    def psi_shares(self) -> list[float]:
        """Share of training values in each PSI bin: (-inf, e1), [e1, e2), ..., [ek, inf)."""
        below = [self.cdf_before(edge) for edge in self.psi_edges]
        bounds = [0.0, *below, 1.0]
        return [hi - lo for lo, hi in zip(bounds[:-1], bounds[1:])]

    def cdf_before(self, value: float) -> float:
        index = bisect.bisect_left(self.points, value) - 1
        return self.cdf[index] if index >= 0 else 0.0


def quantile_edges(points: list[float], cdf: list[float], bins: int) -> list[float]:
    """Inner edges putting about 1/bins of the values in each bin (fewer bins where values repeat)."""
    edges = []
    for q in np.arange(1, bins) / bins:
        index = bisect.bisect_left(cdf, q - 1e-12) + 1  # first point after the one where the CDF reaches q
        if index < len(points) and (not edges or points[index] > edges[-1]):
            edges.append(points[index])
    return edges


def profile_numeric(values: DataFrame, name: str, rows: int, nulls: int, max_points: int, psi_bins: int) -> FeatureProfile:
    """`values` has one double column `v` without nulls."""
    counts = values.groupBy("v").count().orderBy("v").limit(max_points + 1).collect()
    if len(counts) <= max_points:
        points = [float(row["v"]) for row in counts]
        cdf = (np.cumsum([row["count"] for row in counts]) / max(rows - nulls, 1)).tolist()
    else:  # too many distinct values to keep: quantiles (relative error below one step of the grid)
        probabilities = (np.arange(1, max_points + 1) / max_points).tolist()
        quantiles = values.approxQuantile("v", probabilities, 0.5 / max_points)
        by_point = dict(zip(quantiles, probabilities))  # a repeated quantile keeps its highest share
        points, cdf = sorted(by_point), [by_point[p] for p in sorted(by_point)]
    return FeatureProfile(name, NUMERIC, rows, nulls / rows if rows else 0.0, points=points, cdf=cdf,
                          psi_edges=quantile_edges(points, cdf, psi_bins))


def profile_categorical(values: DataFrame, name: str, rows: int, nulls: int, max_categories: int) -> FeatureProfile:
    """`values` has one string column `v` without nulls; the most frequent `max_categories` are kept."""
    present = rows - nulls
    top = values.groupBy("v").count().orderBy(F.desc("count"), "v").limit(max_categories).collect()
    frequencies = {row["v"]: row["count"] / present for row in top}
    return FeatureProfile(name, CATEGORICAL, rows, nulls / rows if rows else 0.0, frequencies=frequencies)


def profile_features(frame: DataFrame, numeric: list[str], categorical: list[str], max_points: int = 10_000,
                     psi_bins: int = 10, max_categories: int = 100) -> dict[str, FeatureProfile]:
    columns = {name: numeric_value(F.col(f"`{name}`")) for name in numeric}
    columns.update({name: category_value(F.col(f"`{name}`")) for name in categorical})
    typed = frame.select(*[value.alias(name) for name, value in columns.items()]).cache()
    totals = typed.agg(F.count(F.lit(1)).alias("__rows"), *[F.count_if(F.col(f"`{n}`").isNull()).alias(n) for n in columns]).first()
    profiles = {}
    for name in columns:
        values = typed.select(F.col(f"`{name}`").alias("v")).where(F.col("v").isNotNull())
        if name in numeric:
            profiles[name] = profile_numeric(values, name, totals["__rows"], totals[name], max_points, psi_bins)
        else:
            profiles[name] = profile_categorical(values, name, totals["__rows"], totals[name], max_categories)
    typed.unpersist()
    return profiles


@dataclass(frozen=True)
class TrainingProfile:
    """What a model version saw in training: its features and, for classifiers, its test-set scores."""

    task: str
    features: dict[str, FeatureProfile]
    score: FeatureProfile | None = None
    positive_rate: float | None = None  # share of test rows predicted positive

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainingProfile:
        score = data.get("score")
        return cls(
            task=data["task"],
            features={name: FeatureProfile(**profile) for name, profile in data["features"].items()},
            score=FeatureProfile(**score) if score else None,
            positive_rate=data.get("positive_rate"),
        )

    @property
    def numeric(self) -> list[FeatureProfile]:
        return [p for p in self.features.values() if p.kind == NUMERIC]

    @property
    def categorical(self) -> list[FeatureProfile]:
        return [p for p in self.features.values() if p.kind == CATEGORICAL]


def training_profile(train: DataFrame, numeric: list[str], categorical: list[str], task: str,
                     test_scores: np.ndarray | None = None, threshold: float = 0.5) -> TrainingProfile:
    """Profile of the training rows, plus the score distribution and positive rate on the test rows."""
    features = profile_features(train, numeric, categorical)
    if test_scores is None or len(test_scores) == 0:
        return TrainingProfile(task=task, features=features)
    scores = train.sparkSession.createDataFrame([(float(s),) for s in test_scores], f"`{SCORE_FEATURE}` double")
    score = profile_features(scores, [SCORE_FEATURE], [])[SCORE_FEATURE]
    positive_rate = float(np.mean(test_scores >= threshold)) if task == "classification" else None
    return TrainingProfile(task=task, features=features, score=score, positive_rate=positive_rate)
