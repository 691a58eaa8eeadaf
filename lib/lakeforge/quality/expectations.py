"""Expectation rules: Spark predicates that route rows, and a Great Expectations validation of the batch.

Row-level drop rules tag the rows they reject (tag_rule_failures); every rule, row- or table-level, is
also judged on the whole batch as GX would (validate_rules: one aggregate where a count decides, a GX
suite for the rest), and enforce_table_policies turns failed fail/drop/warn rules into an error, a
quarantined batch or warnings. Kwargs are read through the GX expectation
classes on both paths, so a rule means the same on each and a typo in the config fails early.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import great_expectations as gx
from great_expectations.core.batch_definition import BatchDefinition
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.expectations import Expectation
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakeforge.config.models import ExpectationRule
from lakeforge.quality.failures import FAILED_RULES, FAILURE_DETAILS, RowFailure, is_malformed, quote_value, record_failures

_EXPECTATION_CLASSES: dict[str, type[Expectation]] = {
    cls.expectation_type: cls
    for cls in vars(gx.expectations).values()
    if isinstance(cls, type) and issubclass(cls, Expectation) and cls is not Expectation
}

# Row-level by name, but whether a row meets them depends on the other rows of the batch.
_BATCH_DEPENDENT = {
    "expect_column_values_to_be_unique",
    "expect_column_values_to_be_increasing",
    "expect_column_values_to_be_decreasing",
    "expect_column_values_to_not_be_outliers",
}


class ExpectationFailedError(Exception):
    """A rule with policy fail did not hold: the job must stop."""


@dataclass(frozen=True)
class RuleResult:
    """GX's verdict on one rule: counts for column-value rules, observed_value for the others."""

    policy: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    observed_value: Any


@dataclass(frozen=True)
class ValidationReport:
    """The GX results of one suite on one batch."""

    suite_name: str
    results: dict[str, RuleResult]  # by rule name, in the order of the rules

    @property
    def success(self) -> bool:
        return all(result.success for result in self.results.values())


@dataclass(frozen=True)
class TableOutcome:
    """What the policies make of a report (a failed fail rule raises instead)."""

    quarantine_batch: dict[str, str]  # failed table-level drop rule -> message: the whole batch is quarantined
    warnings: tuple[str, ...]  # a message per failed warn rule


def is_row_level(rule: ExpectationRule) -> bool:
    """Whether each row meets `rule` or not on its own (else the rule judges the whole batch)."""
    per_value = rule.expectation.startswith(("expect_column_values_", "expect_column_value_lengths_"))
    return per_value and rule.expectation not in _BATCH_DEPENDENT


def row_condition(rule: ExpectationRule) -> Column:
    """True where the row meets `rule`, never null.

    As in Great Expectations, a null value meets every expectation but the two null checks.
    """
    condition = _ROW_CONDITIONS.get(rule.expectation)
    if condition is None:
        raise ValueError(
            f"rule '{rule.name}': expectation '{rule.expectation}' cannot be checked row by row; "
            f"the supported types are {', '.join(sorted(_ROW_CONDITIONS))}"
        )
    expectation = _gx_expectation(rule)
    if expectation.row_condition:
        raise ValueError(f"{_describe(rule)}: conditional expectations (row_condition) are not supported")
    column = F.col(expectation.column)
    met = condition(column, expectation)
    if rule.expectation in _NULL_CHECKS:
        return met
    # GX counts a row as unexpected only where the negated condition is true: null does not count.
    return column.isNull() | F.coalesce(met, F.lit(True))


def tag_rule_failures(rules: list[ExpectationRule], extra: Sequence[RowFailure] = ()) -> Callable[[DataFrame], DataFrame]:
    """Record in _failed_rules every row-level drop rule the row breaks, and every `extra` failure
    (checks of the caller's own, recorded in the same pass).

    A breaking row is tagged whatever the rule's `mostly`; warn and fail rules are left to the GX
    validation.
    """

    def transform(df: DataFrame) -> DataFrame:
        judged = ~is_malformed(df)
        failures = [
            RowFailure(rule.name, ~row_condition(rule), _row_failure_message(rule))
            for rule in rules
            if rule.policy == "drop" and is_row_level(rule)
        ]
        return df.transform(record_failures([failure._replace(failed=judged & failure.failed) for failure in [*failures, *extra]]))

    return transform


def split_valid_and_quarantined(df: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(silver rows without the failure columns, quarantine rows with them)."""
    failed = F.size(FAILED_RULES) > 0
    return df.where(~failed).drop(FAILED_RULES, FAILURE_DETAILS), df.where(failed)


def validate_rules(df: DataFrame, rules: list[ExpectationRule], suite_name: str) -> ValidationReport:
    """Judge every rule on `df`, as Great Expectations would: the rules a count decides (row-level
    column rules, row-count bounds) from one aggregate over `df`, any other in a GX suite.

    GX computes its metrics in several Spark jobs and a second of its own per suite; the counts here
    are one job and give GX's results (tests/quality compare the two on the same rows).
    """
    _refuse_duplicate_names(rules, suite_name)
    counted = [rule for rule in rules if _counted_by_aggregate(rule)]
    results = _counted_results(df, counted) if counted else {}
    others = [rule for rule in rules if rule.name not in results]
    if others:
        results.update(validate_with_gx(df, others, suite_name).results)
    return ValidationReport(suite_name, {rule.name: results[rule.name] for rule in rules})


def validate_with_gx(df: DataFrame, rules: list[ExpectationRule], suite_name: str) -> ValidationReport:
    """Run every rule, row- and table-level, as one GX expectation suite on `df`.

    This runs several Spark jobs over `df`: cache it first if it is expensive to recompute.
    """
    _refuse_duplicate_names(rules, suite_name)
    suite = gx.ExpectationSuite(name=suite_name, expectations=[_gx_expectation(rule) for rule in rules])
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": df})
    validation = batch.validate(suite, result_format="BASIC")
    by_name = {result.expectation_config.description: result for result in validation.results}
    return ValidationReport(suite_name, {rule.name: _rule_result(rule, by_name[rule.name]) for rule in rules})


def _refuse_duplicate_names(rules: list[ExpectationRule], suite_name: str) -> None:
    names = [rule.name for rule in rules]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"suite '{suite_name}' has duplicate rule names: {duplicates}")


_ROW_COUNT_RULES = {"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"}


def _counted_by_aggregate(rule: ExpectationRule) -> bool:
    """Whether a count of rows decides `rule` (a conditional expectation is left to GX)."""
    if _gx_expectation(rule).row_condition:
        return False
    return (is_row_level(rule) and rule.expectation in _ROW_CONDITIONS) or rule.expectation in _ROW_COUNT_RULES


def _counted_results(df: DataFrame, rules: list[ExpectationRule]) -> dict[str, RuleResult]:
    """Each rule's GX result from one aggregate: the rows, and per column rule its unexpected and null rows."""
    for rule in rules:
        column = rule.kwargs.get("column")
        if column is not None and column not in df.columns:
            raise ValueError(f"{_describe(rule)} could not be evaluated: no column '{column}' among {df.columns}")
    column_rules = [rule for rule in rules if rule.expectation not in _ROW_COUNT_RULES]
    counts = df.agg(
        F.count(F.lit(1)).alias("rows"),
        *[F.count_if(~row_condition(rule)).alias(f"unexpected_{i}") for i, rule in enumerate(column_rules)],
        *[F.count_if(F.col(rule.kwargs["column"]).isNull()).alias(f"null_{i}") for i, rule in enumerate(column_rules)],
    ).first()
    rows = counts["rows"]
    results = {}
    for i, rule in enumerate(column_rules):
        unexpected = counts[f"unexpected_{i}"]
        # As GX: the null checks judge every row, the other rules only the rows with a value.
        considered = rows if rule.expectation in _NULL_CHECKS else rows - counts[f"null_{i}"]
        success = considered == 0 or (considered - unexpected) / considered >= _gx_expectation(rule).mostly
        # GX reports no unexpected count at all for an empty batch.
        results[rule.name] = RuleResult(rule.policy, success, element_count=rows, unexpected_count=unexpected if rows else None, observed_value=None)
    for rule in rules:
        if rule.expectation in _ROW_COUNT_RULES:
            results[rule.name] = RuleResult(rule.policy, _row_count_holds(rule, rows), None, None, observed_value=rows)
    return results


def _row_count_holds(rule: ExpectationRule, rows: int) -> bool:
    expectation = _gx_expectation(rule)
    if rule.expectation == "expect_table_row_count_to_equal":
        return rows == expectation.value
    low, high = expectation.min_value, expectation.max_value
    above = low is None or (rows > low if expectation.strict_min else rows >= low)
    below = high is None or (rows < high if expectation.strict_max else rows <= high)
    return above and below


def enforce_table_policies(report: ValidationReport, rules: list[ExpectationRule]) -> TableOutcome:
    """Raise ExpectationFailedError for failed fail rules; collect failed table-level drop and warn rules.

    Failed row-level drop rules are not listed: tag_rule_failures already sends their rows to quarantine.
    """
    failed = [rule for rule in rules if not report.results[rule.name].success]
    messages = {rule.name: _failure_message(rule, report.results[rule.name]) for rule in failed}
    fatal = [messages[rule.name] for rule in failed if rule.policy == "fail"]
    if fatal:
        raise ExpectationFailedError(f"suite '{report.suite_name}': " + "; ".join(fatal))
    return TableOutcome(
        quarantine_batch={r.name: messages[r.name] for r in failed if r.policy == "drop" and not is_row_level(r)},
        warnings=tuple(messages[rule.name] for rule in failed if rule.policy == "warn"),
    )


def tag_batch_failures(outcome: TableOutcome) -> Callable[[DataFrame], DataFrame]:
    """Record the outcome's failed table-level drop rules on every row of the batch."""
    batch_failures = outcome.quarantine_batch.items()
    return record_failures([RowFailure(rule, F.lit(True), F.lit(message)) for rule, message in batch_failures])


def _gx_expectation(rule: ExpectationRule) -> Expectation:
    cls = _EXPECTATION_CLASSES.get(rule.expectation)
    if cls is None:
        raise ValueError(
            f"rule '{rule.name}': expectation '{rule.expectation}' is not a Great Expectations expectation type "
            f"(see great_expectations.expectations)"
        )
    try:
        # The description keeps two rules with equal kwargs apart: a GX suite drops equal expectations.
        return cls(**rule.kwargs, description=rule.name)
    except ValueError as error:  # pydantic's ValidationError
        raise ValueError(f"{_describe(rule)} has invalid kwargs: {error}") from error


def _describe(rule: ExpectationRule) -> str:
    kwargs = ", ".join(_format_kwarg(key, value) for key, value in rule.kwargs.items())
    head = f"rule '{rule.name}' ({rule.expectation}"
    return f"{head} {kwargs})" if kwargs else f"{head})"


def _format_kwarg(key: str, value: Any) -> str:
    # Strings are quoted, not repr'd: a regex reads as configured, without doubled backslashes.
    return f"{key}='{value}'" if isinstance(value, str) else f"{key}={value!r}"


def _row_failure_message(rule: ExpectationRule) -> Column:
    return F.concat(F.lit(f"{_describe(rule)} failed: got "), quote_value(F.col(rule.kwargs["column"])))


def _failure_message(rule: ExpectationRule, result: RuleResult) -> str:
    if result.unexpected_count is not None:
        return f"{_describe(rule)} failed: {result.unexpected_count} of {result.element_count} rows unexpected"
    unit = " rows" if rule.expectation.startswith("expect_table_row_count_") else ""
    return f"{_describe(rule)} failed: observed {result.observed_value}{unit}"


def _between(value: Column, minimum: Any, maximum: Any, strict_min: bool, strict_max: bool) -> Column:
    above = F.lit(True) if minimum is None else (value > minimum if strict_min else value >= minimum)
    below = F.lit(True) if maximum is None else (value < maximum if strict_max else value <= maximum)
    return above & below


_NULL_CHECKS = {"expect_column_values_to_not_be_null", "expect_column_values_to_be_null"}

_ROW_CONDITIONS: dict[str, Callable[[Column, Any], Column]] = {
    "expect_column_values_to_not_be_null": lambda column, e: column.isNotNull(),
    "expect_column_values_to_be_null": lambda column, e: column.isNull(),
    "expect_column_values_to_be_between": lambda column, e: _between(
        column, e.min_value, e.max_value, e.strict_min, e.strict_max
    ),
    "expect_column_values_to_be_in_set": lambda column, e: column.isin(e.value_set),
    "expect_column_values_to_not_be_in_set": lambda column, e: ~column.isin(e.value_set),
    "expect_column_values_to_match_regex": lambda column, e: column.rlike(e.regex),
    "expect_column_values_to_not_match_regex": lambda column, e: ~column.rlike(e.regex),
    "expect_column_value_lengths_to_be_between": lambda column, e: _between(
        F.length(column), e.min_value, e.max_value, e.strict_min, e.strict_max
    ),
}


@functools.cache
def _batch_definition() -> BatchDefinition:
    # One in-memory GX context per process: setting one up costs seconds, reusing it nothing.
    # Batch.validate (unlike ValidationDefinition.run) keeps no results in the context's store.
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_spark(name="lakeforge").add_dataframe_asset(name="batch")
    return asset.add_batch_definition_whole_dataframe("whole batch")


def _rule_result(rule: ExpectationRule, gx_result: Any) -> RuleResult:
    errors = _exception_messages(gx_result.exception_info)
    if errors:
        raise ValueError(f"{_describe(rule)} could not be evaluated: {'; '.join(errors)}")
    return RuleResult(
        policy=rule.policy,
        success=bool(gx_result.success),
        element_count=gx_result.result.get("element_count"),
        unexpected_count=gx_result.result.get("unexpected_count"),
        observed_value=gx_result.result.get("observed_value"),
    )


def _exception_messages(exception_info: dict[str, Any]) -> list[str]:
    # GX reports one {raised_exception, exception_message} dict, or one per metric that raised.
    infos = [exception_info] if "raised_exception" in exception_info else list(exception_info.values())
    return [info["exception_message"] for info in infos if info.get("raised_exception")]
