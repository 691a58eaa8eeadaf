"""Distribution drift against a training profile, computed in Spark: PSI and Kolmogorov-Smirnov for
numbers, Jensen-Shannon distance and unseen categories for categories.

Every row is counted once into small per-(window, version, feature) tables; the statistics are then
window functions and sums over those counts, so the cost grows with the log's rows, not with any
sort of them.

KS is exact against the profile: each training value gets a bucket of its own and each gap between
two training values another, so the largest gap between the two empirical CDFs is found at a bucket
end. It equals scipy's `ks_2samp` statistic whenever the profile kept every distinct training value.
"""

from __future__ import annotations

import bisect
import math

import numpy as np
from pyspark.ml.feature import Bucketizer
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lakeforge.monitoring.windows import GROUP
from lakeforge.quality.profile import FeatureProfile

KEYS = [*GROUP, "feature"]
PSI_FLOOR = 1e-4  # a bin empty on one side would make PSI infinite; both shares are floored to this


def bucket_splits(profile: FeatureProfile) -> list[float]:
    """[-inf, p1, next(p1), p2, next(p2), ..., inf]: bucket [p, next(p)) holds exactly the value p."""
    inner = sorted({x for point in profile.points for x in (point, float(np.nextafter(point, math.inf)))})
    return [-math.inf, *inner, math.inf]


def reference_buckets(spark: SparkSession, profiles: list[FeatureProfile]) -> DataFrame:
    """Per feature and bucket: the training CDF at the bucket's lower end and the PSI bin it falls in."""
    rows = []
    for profile in profiles:
        splits = bucket_splits(profile)
        rows += [(profile.name, j, profile.cdf_at(low), bisect.bisect_right(profile.psi_edges, low)) for j, low in enumerate(splits[:-1])]
    return spark.createDataFrame(rows, "feature string, bucket int, ref_cdf double, psi_bin int")


def reference_psi_shares(spark: SparkSession, profiles: list[FeatureProfile]) -> DataFrame:
    rows = [(p.name, b, share) for p in profiles for b, share in enumerate(p.psi_shares())]
    return spark.createDataFrame(rows, "feature string, psi_bin int, ref_share double")


def numeric_bucket_counts(features: DataFrame, profiles: list[FeatureProfile]) -> DataFrame:
    """Rows per (window, version, feature, bucket); nulls land in Bucketizer's extra NaN bucket."""
    names = [p.name for p in profiles]
    filled = features.select(*GROUP, *[F.coalesce(F.col(f"`{n}`"), F.lit(math.nan)).alias(f"__v{i}") for i, n in enumerate(names)])
    bucketed = Bucketizer(
        splitsArray=[bucket_splits(p) for p in profiles],
        inputCols=[f"__v{i}" for i in range(len(names))],
        outputCols=[f"__b{i}" for i in range(len(names))],
        handleInvalid="keep",
    ).transform(filled)
    pairs = F.explode(F.array(*[F.struct(F.lit(n).alias("feature"), F.col(f"__b{i}").cast("int").alias("bucket")) for i, n in enumerate(names)]))
    return bucketed.select(*GROUP, pairs.alias("p")).select(*GROUP, "p.feature", "p.bucket").groupBy(*KEYS, "bucket").count()


def numeric_drift(counts: DataFrame, reference: DataFrame, reference_psi: DataFrame) -> DataFrame:
    """Per (window, version, feature): values (non-null rows), ks and psi from bucket counts."""
    valid = counts.join(F.broadcast(reference.select("feature", "bucket")), ["feature", "bucket"], "left_semi")
    totals = valid.groupBy(*KEYS).agg(F.sum("count").alias("values"))
    # Every training bucket in every group: a bucket the current rows never reach still moves the CDF gap.
    grid = totals.join(F.broadcast(reference), "feature")
    full = grid.join(valid, [*KEYS, "bucket"], "left").fillna(0, subset=["count"])
    running = Window.partitionBy(*KEYS).orderBy("bucket").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    full = full.withColumn("cur_cdf", F.sum("count").over(running) / F.col("values"))
    ks = full.groupBy(*KEYS).agg(F.max(F.abs(F.col("ref_cdf") - F.col("cur_cdf"))).alias("ks"))
    shares = (
        full.groupBy(*KEYS, "psi_bin").agg((F.sum("count") / F.first("values")).alias("share"))
        .join(F.broadcast(reference_psi), ["feature", "psi_bin"])
        .select(*KEYS, *[F.greatest(F.col(c), F.lit(PSI_FLOOR)).alias(c) for c in ("share", "ref_share")])
    )
    psi = shares.groupBy(*KEYS).agg(F.sum((F.col("share") - F.col("ref_share")) * F.ln(F.col("share") / F.col("ref_share"))).alias("psi"))
    return totals.join(ks, KEYS).join(psi, KEYS)


def reference_frequencies(spark: SparkSession, profiles: list[FeatureProfile]) -> DataFrame:
    rows = [(p.name, value, share) for p in profiles for value, share in p.frequencies.items()]
    return spark.createDataFrame(rows, "feature string, value string, ref_share double")


def category_counts(features: DataFrame, names: list[str]) -> DataFrame:
    """Non-null rows per (window, version, feature, category)."""
    pairs = F.explode(F.array(*[F.struct(F.lit(n).alias("feature"), F.col(f"`{n}`").alias("value")) for n in names]))
    long = features.select(*GROUP, pairs.alias("p")).select(*GROUP, "p.feature", "p.value")
    return long.where(F.col("value").isNotNull()).groupBy(*KEYS, "value").count()


def _relative_entropy(p: str, m: str):
    return F.when(F.col(p) > 0, F.col(p) * F.ln(F.col(p) / F.col(m))).otherwise(0.0)


def categorical_drift(counts: DataFrame, reference: DataFrame) -> DataFrame:
    """Per (window, version, feature): values, js (Jensen-Shannon distance, base 2, as scipy's
    `jensenshannon`) and unseen_share (rows whose category training never saw)."""
    totals = counts.groupBy(*KEYS).agg(F.sum("count").alias("values"))
    current = counts.join(totals, KEYS).select(*KEYS, "value", (F.col("count") / F.col("values")).alias("share"))
    grid = totals.select(*KEYS).join(F.broadcast(reference), "feature")
    full = (
        grid.join(current, [*KEYS, "value"], "full")
        .withColumn("unseen", F.col("ref_share").isNull())
        .fillna(0.0, subset=["share", "ref_share"])
        .withColumn("mid", (F.col("share") + F.col("ref_share")) / 2)
    )
    divergence = (F.sum(_relative_entropy("share", "mid")) + F.sum(_relative_entropy("ref_share", "mid"))) / 2 / math.log(2)
    stats = full.groupBy(*KEYS).agg(
        F.sqrt(F.greatest(divergence, F.lit(0.0))).alias("js"),
        F.sum(F.when(F.col("unseen"), F.col("share")).otherwise(0.0)).alias("unseen_share"),
    )
    return totals.join(stats, KEYS)
