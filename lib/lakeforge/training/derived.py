"""Derived features (ratios, products, log1p of skewed counts, quantile buckets, similarity to geographic
clusters), planned once on the training rows and written as SQL, so the saved pipeline derives them
from raw rows when it scores.

What is derived is decided from the training split's features only (never the label, never the test
rows), as the PCA size is: a skewness or a cluster centre fixed in the plan is then applied unchanged
to every fold, the refit and scoring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyspark.ml.clustering import KMeans
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakeforge.training.columns import ColumnRoles
from lakeforge.training.config import DerivedSpec


@dataclass(frozen=True)
class Derived:
    name: str
    expression: str  # Spark SQL over the typed `num__<column>` values
    why: str
    categorical: bool = False  # a label one-hot encoded like a text column; otherwise a number, imputed

    @property
    def column(self) -> str:
        return f"`cat__{self.name}`" if self.categorical else typed(self.name)


def typed(column: str) -> str:
    return f"`num__{column}`"


def ratio(name: str, numerator: str, denominator: str) -> Derived:
    # try_divide: a zero denominator gives null (imputed next), not an error under ANSI mode.
    return Derived(name, f"try_divide({typed(numerator)}, {typed(denominator)})", f"{numerator} / {denominator}")


def product(name: str, left: str, right: str) -> Derived:
    return Derived(name, f"{typed(left)} * {typed(right)}", f"{left} x {right}")


def bucket(column: str, edges: list[float], why: str) -> Derived:
    """`[lo, hi)` labels between sorted edges, one-hot encoded: a step per bucket for linear models.
    A null stays null (all zeros after encoding, like an unseen category)."""
    value, labels = typed(column), [f"{edge:.6g}" for edge in edges]
    cases = [f"WHEN {value} < {edges[0]!r}D THEN '< {labels[0]}'"]
    cases += [f"WHEN {value} < {hi!r}D THEN '[{lo_label}, {hi_label})'"
              for hi, lo_label, hi_label in zip(edges[1:], labels, labels[1:])]
    expression = f"CASE {' '.join(cases)} WHEN {value} >= {edges[-1]!r}D THEN '>= {labels[-1]}' END"
    return Derived(f"{column}_bucket", expression, why, categorical=True)


def log1p(column: str, skewness: float | None) -> Derived:
    # The column held no negatives in training; one at scoring counts as 0, not NaN. A null stays null
    # for the imputer (greatest() would skip it and give 0).
    why = f"log1p, skewness {skewness:.2f}" if skewness is not None else "log1p, listed"
    value = typed(column)
    return Derived(f"log1p_{column}", f"log1p(CASE WHEN {value} < 0 THEN 0D ELSE {value} END)", why)


def similarity(index: int, latitude: str, longitude: str, centre: tuple[float, float], gamma: float) -> Derived:
    """RBF similarity to one cluster centre, in squared degrees (the scale of a city at gamma 1)."""
    lat, lon = centre
    distance = f"pow({typed(latitude)} - {lat!r}D, 2) + pow({typed(longitude)} - {lon!r}D, 2)"
    return Derived(f"geo_similarity_{index}", f"exp(-{gamma!r}D * ({distance}))", f"similarity to ({lat:.3f}, {lon:.3f})")


def skewed_columns(train: DataFrame, columns: list[str], threshold: float) -> dict[str, float]:
    """Columns with no negative values, more than two distinct ones and skewness above the threshold."""
    if not columns:
        return {}
    aggregates = []
    for i, column in enumerate(columns):
        value = F.col(f"`{column}`").try_cast("double")
        aggregates += [F.min(value).alias(f"m{i}"), F.skewness(value).alias(f"s{i}"), F.approx_count_distinct(value).alias(f"d{i}")]
    row = train.agg(*aggregates).first()
    return {
        column: float(row[f"s{i}"]) for i, column in enumerate(columns)
        if row[f"m{i}"] is not None and row[f"m{i}"] >= 0 and row[f"d{i}"] > 2
        and row[f"s{i}"] is not None and row[f"s{i}"] > threshold
    }


def quantile_edges(train: DataFrame, counts: dict[str, int]) -> dict[str, list[float]]:
    """Inner edges that split each column's training values into about `count` equally filled
    buckets; repeated edges (a value many rows share) merge into one, and one at the minimum, which
    would leave its lower bucket empty, is dropped."""
    if not counts:
        return {}
    aggregates = []
    for i, (column, count) in enumerate(counts.items()):
        value = F.col(f"`{column}`").try_cast("double")
        aggregates += [F.percentile_approx(value, [k / count for k in range(1, count)], 10_000).alias(f"q{i}"), F.min(value).alias(f"m{i}")]
    row = train.agg(*aggregates).first()
    return {column: sorted({edge for edge in row[f"q{i}"] or [] if edge > row[f"m{i}"]}) for i, column in enumerate(counts)}


def geo_centres(train: DataFrame, latitude: str, longitude: str, clusters: int, seed: int) -> list[tuple[float, float]]:
    points = train.select(*[F.col(f"`{c}`").try_cast("double").alias(c) for c in (latitude, longitude)]).dropna()
    vectors = VectorAssembler(inputCols=[latitude, longitude], outputCol="__point").transform(points)
    model = KMeans(k=clusters, seed=seed, featuresCol="__point").fit(vectors)
    return sorted((float(lat), float(lon)) for lat, lon in np.asarray(model.clusterCenters()))


def plan_derived(train: DataFrame, roles: ColumnRoles, spec: DerivedSpec, seed: int) -> tuple[Derived, ...]:
    """The derived features for these training rows; a listed column that is not numeric is an error."""
    numeric = list(roles.numeric)
    listed = [c for pair in [*spec.ratios.values(), *spec.interactions.values()] for c in pair]
    listed += [*spec.buckets, *(spec.log1p if isinstance(spec.log1p, list) else [])]
    missing = sorted({c for c in listed if c not in numeric})
    if missing:
        raise ValueError(f"features.derived names {missing}, which are not numeric feature columns: {numeric}")
    derived = [ratio(name, *pair) for name, pair in spec.ratios.items()]
    derived += [product(name, *pair) for name, pair in spec.interactions.items()]
    if spec.log1p == "auto":
        derived += [log1p(c, skew) for c, skew in skewed_columns(train, numeric, spec.skew_threshold).items()]
    else:
        derived += [log1p(c, None) for c in spec.log1p]
    derived += buckets(train, spec.buckets)
    geo = spec.geo
    if geo.clusters and geo.latitude in numeric and geo.longitude in numeric:
        centres = geo_centres(train, geo.latitude, geo.longitude, geo.clusters, seed)
        derived += [similarity(i, geo.latitude, geo.longitude, c, geo.gamma) for i, c in enumerate(centres)]
    taken = [d.name for d in derived] + list(roles.features)
    clashes = sorted({name for name in taken if taken.count(name) > 1})
    if clashes:
        raise ValueError(f"features.derived: {clashes} name more than one feature; rename the ratios")
    return tuple(derived)


def buckets(train: DataFrame, spec: dict[str, int | list[float]]) -> list[Derived]:
    """A count is split at the training rows' quantiles; a list is the edges themselves."""
    edges = quantile_edges(train, {c: n for c, n in spec.items() if isinstance(n, int)})
    planned = []
    for column, given in spec.items():
        cut = sorted(set(given)) if isinstance(given, list) else edges[column]
        if not cut:
            raise ValueError(f"features.derived.buckets: {column!r} has a single value in the training rows; nothing to split")
        why = f"{len(cut) + 1} buckets" + (f" of equal training counts (asked {given})" if isinstance(given, int) else ", listed edges")
        planned.append(bucket(column, cut, why))
    return planned


def derived_sql(derived: tuple[Derived, ...]) -> str:
    return "SELECT *, " + ", ".join(f"{d.expression} AS {d.column}" for d in derived) + " FROM __THIS__"
