"""`lakeforge report ab`: click-through rate per variant from feedback in silver, with a Wilson interval."""

import math

import pytest

from lakeforge.recommendations.ab_report import ab_report, variant_ctr
from lakeforge.recommendations.tables import RecsTables
from recommendations.world import small_config

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile


def wilson(clicks: int, shown: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval, written out from its formula."""
    p = clicks / shown
    centre = (p + z * z / (2 * shown)) / (1 + z * z / shown)
    half = z * math.sqrt(p * (1 - p) / shown + z * z / (4 * shown * shown)) / (1 + z * z / shown)
    return centre - half, centre + half


def feedback(variant, kind, count, start):
    return [(f"{variant}-{kind}-{i}", i % 7, i % 5, kind, 1.0, variant) for i in range(start, start + count)]


def test_counts_each_variants_impressions_and_clicks_and_bounds_the_rate(spark, tmp_path):
    tables = RecsTables.of(small_config(tmp_path))
    rows = (
        feedback("champion", "impression", 200, 0) + feedback("champion", "click", 20, 0)
        + feedback("challenger", "impression", 100, 0) + feedback("challenger", "click", 30, 0)
        + [("v1", 1, 1, "view", 1.0, None), ("p1", 1, 2, "purchase", 1.0, None)]  # interactions, not feedback
    )
    columns = ["event_id", "user_id", "item_id", "event_type", "value", "variant"]
    spark.createDataFrame(rows, columns).write.format("delta").save(tables.silver)

    report = {v.variant: v for v in ab_report(spark, tables)}
    assert {name: (v.impressions, v.clicks, v.ctr) for name, v in report.items()} == {
        "challenger": (100, 30, 0.3), "champion": (200, 20, 0.1)
    }
    for name, (clicks, shown) in {"champion": (20, 200), "challenger": (30, 100)}.items():
        assert (report[name].low, report[name].high) == pytest.approx(wilson(clicks, shown), abs=1e-9)
    assert report["champion"].high < report["challenger"].low  # these arms differ beyond their uncertainty


def test_no_interval_without_impressions_or_with_more_clicks_than_impressions():
    nothing = variant_ctr("champion", 0, 3, 0.95)
    assert (nothing.ctr, nothing.low, nothing.high) == (None, None, None)
    inconsistent = variant_ctr("challenger", 4, 6, 0.95)
    assert (inconsistent.ctr, inconsistent.low, inconsistent.high) == (1.5, None, None)
