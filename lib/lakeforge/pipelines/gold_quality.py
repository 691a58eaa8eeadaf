"""A gold table's expectations, with the policies silver has: drop to quarantine, warn, fail the run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakeforge.config.models import ExpectationRule
from lakeforge.quality.expectations import (
    ValidationReport,
    enforce_table_policies,
    split_valid_and_quarantined,
    tag_batch_failures,
    tag_rule_failures,
    validate_rules,
)
from lakeforge.quality.failures import FAILED_RULES, FAILURE_DETAILS
from lakeforge.tables import delta

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckedRows:
    """The rows that passed, how many went to quarantine, and the cache to release once they are written."""

    valid: DataFrame
    quarantined: int
    cached: DataFrame


def apply_expectations(
    rows: DataFrame,
    name: str,
    rules: list[ExpectationRule],
    quarantine: str,
    run_id: str,
    on_validated: Callable[[ValidationReport], None],
) -> CheckedRows:
    """Check `rows` against the rules, appending the rejected ones to `quarantine`.

    A failed rule with policy fail raises ExpectationFailedError naming the rule and its counts.
    """
    if not rules:
        cached = rows.persist(StorageLevel.MEMORY_AND_DISK)
        return CheckedRows(cached, 0, cached)
    columns = rows.columns
    tagged = rows.transform(tag_rule_failures(rules)).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        report = validate_rules(tagged.select(*columns), rules, suite_name=f"gold.{name}")
        on_validated(report)
        outcome = enforce_table_policies(report, rules)
        for warning in outcome.warnings:
            log.warning("gold.%s: %s", name, warning)
        valid, rejected = split_valid_and_quarantined(tagged.transform(tag_batch_failures(outcome)))
        quarantined = delta.append(as_quarantine_rows(rejected, name, columns, run_id), quarantine)
    except Exception:
        tagged.unpersist()
        raise
    return CheckedRows(valid, quarantined, tagged)


def as_quarantine_rows(rejected: DataFrame, name: str, columns: list[str], run_id: str) -> DataFrame:
    """Quarantine rows as silver's: the table, the reasons, and the rejected row itself as JSON."""
    return rejected.select(
        F.lit(f"gold.{name}").alias("_table"),
        F.col(FAILED_RULES).alias("_reasons"),
        F.col(FAILURE_DETAILS).alias("_details"),
        F.to_json(F.struct(*columns)).alias("_raw_record"),
        F.lit(run_id).alias("_run_id"),
        F.current_timestamp().alias("_quarantined_at"),
    )
