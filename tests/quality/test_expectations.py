"""Row rules as Spark predicates, GX validation (the real library, on Spark) and the policies applied to it."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from lakeforge.config.models import ExpectationRule
from lakeforge.quality.expectations import (
    ExpectationFailedError,
    RuleResult,
    ValidationReport,
    enforce_table_policies,
    is_row_level,
    row_condition,
    split_valid_and_quarantined,
    tag_batch_failures,
    tag_rule_failures,
    validate_rules,
    validate_with_gx,
)

FAILURES = "_failed_rules array<string>, _failure_details array<string>"
ROWS = [
    (1, "C000001", 5.0),
    (2, "c12", 0.0),
    (3, None, 120.0),
    (4, "C999999", None),
    (5, "", -1.0),
    (6, "C000001", 7.5),
]


def rule(expectation: str, name: str = "r", policy: str = "drop", **kwargs) -> ExpectationRule:
    return ExpectationRule(name=name, expectation=expectation, kwargs=kwargs, policy=policy)


@pytest.fixture(scope="module")
def frame(spark):
    return spark.createDataFrame(ROWS, "id int, s string, n double")


# --- row rules as Spark predicates ---------------------------------------------------------------

# Each rule with the ids of the ROWS that meet it.
ROW_RULE_CASES = {
    "not_null": (rule("expect_column_values_to_not_be_null", column="s"), {1, 2, 4, 5, 6}),
    "null": (rule("expect_column_values_to_be_null", column="n"), {4}),
    "between": (rule("expect_column_values_to_be_between", column="n", min_value=0, max_value=120), {1, 2, 3, 4, 6}),
    "between_strict": (
        rule(
            "expect_column_values_to_be_between",
            column="n",
            min_value=0,
            max_value=120,
            strict_min=True,
            strict_max=True,
        ),
        {1, 4, 6},
    ),
    "between_min_only": (rule("expect_column_values_to_be_between", column="n", min_value=5), {1, 3, 4, 6}),
    "between_max_only": (rule("expect_column_values_to_be_between", column="n", max_value=0, strict_max=True), {4, 5}),
    "in_set": (rule("expect_column_values_to_be_in_set", column="s", value_set=["C000001", ""]), {1, 3, 5, 6}),
    "not_in_set": (rule("expect_column_values_to_not_be_in_set", column="s", value_set=["C000001", ""]), {2, 3, 4}),
    "regex": (rule("expect_column_values_to_match_regex", column="s", regex="^C[0-9]{6}$"), {1, 3, 4, 6}),
    "regex_is_a_search": (rule("expect_column_values_to_match_regex", column="s", regex="[0-9]{2}"), {1, 2, 3, 4, 6}),
    "not_regex": (rule("expect_column_values_to_not_match_regex", column="s", regex="^c"), {1, 3, 4, 5, 6}),
    "lengths": (rule("expect_column_value_lengths_to_be_between", column="s", min_value=1, max_value=3), {2, 3}),
}


@pytest.mark.parametrize("case", ROW_RULE_CASES)
def test_row_condition_follows_great_expectations_semantics(spark, frame, case):
    row_rule, meeting = ROW_RULE_CASES[case]
    expected = spark.createDataFrame([(i, i in meeting) for i, _, _ in ROWS], "id int, met boolean")
    assertDataFrameEqual(frame.select("id", row_condition(row_rule).alias("met")), expected)


def test_unknown_expectation_type_names_the_rule_and_the_supported_types():
    supported = "the supported types are expect_column_value_lengths_to_be_between, expect_column_values_to_be_between"
    with pytest.raises(ValueError, match=f"rule 'typo': expectation 'expect_column_values_to_be_betwen'.*{supported}"):
        row_condition(rule("expect_column_values_to_be_betwen", name="typo", column="n", min_value=0))


def test_a_gx_type_that_is_not_checked_per_row_is_refused():
    with pytest.raises(ValueError, match="expect_column_values_to_be_dateutil_parseable' cannot be checked row by row"):
        row_condition(rule("expect_column_values_to_be_dateutil_parseable", column="s"))


def test_invalid_kwargs_name_the_rule():
    with pytest.raises(ValueError, match="(?s)rule 'r' .* has invalid kwargs.*max_vale"):
        row_condition(rule("expect_column_values_to_be_between", column="n", min_value=0, max_vale=3))


@pytest.mark.parametrize(
    ("expectation", "row_level"),
    [
        ("expect_column_values_to_not_be_null", True),
        ("expect_column_value_lengths_to_be_between", True),
        ("expect_column_values_to_be_unique", False),
        ("expect_table_row_count_to_be_between", False),
        ("expect_column_mean_to_be_between", False),
        ("expect_column_proportion_of_unique_values_to_be_between", False),
    ],
)
def test_is_row_level(expectation, row_level):
    assert is_row_level(rule(expectation, column="s")) is row_level


def test_rows_are_tagged_with_every_drop_rule_they_break(spark, frame):
    rules = [
        rule("expect_column_values_to_not_be_null", name="s_present", column="s"),
        rule("expect_column_values_to_match_regex", name="s_format", column="s", regex="^C[0-9]{6}$"),
        rule("expect_column_values_to_be_between", name="n_range", column="n", min_value=0),
        rule("expect_column_values_to_be_in_set", name="s_warned", policy="warn", column="s", value_set=["C000001"]),
        rule("expect_table_row_count_to_be_between", name="not_empty", min_value=100),
    ]
    s_format = "rule 's_format' (expect_column_values_to_match_regex column='s', regex='^C[0-9]{6}$') failed: got "
    s_present = "rule 's_present' (expect_column_values_to_not_be_null column='s') failed: got null"
    n_range = "rule 'n_range' (expect_column_values_to_be_between column='n', min_value=0) failed: got '-1.0'"
    expected = spark.createDataFrame(
        [
            (1, "C000001", 5.0, [], []),
            (2, "c12", 0.0, ["s_format"], [s_format + "'c12'"]),
            (3, None, 120.0, ["s_present"], [s_present]),
            (4, "C999999", None, [], []),
            (5, "", -1.0, ["s_format", "n_range"], [s_format + "''", n_range]),
            (6, "C000001", 7.5, [], []),
        ],
        f"id int, s string, n double, {FAILURES}",
    )
    assertDataFrameEqual(frame.transform(tag_rule_failures(rules)), expected)


def test_rules_are_not_judged_on_malformed_records(spark):
    present = rule("expect_column_values_to_not_be_null", name="s_present", column="s")
    malformed = "could not be parsed"
    batch = spark.createDataFrame(
        [(None, ["malformed_record"], [malformed]), (None, [], [])], f"s string, {FAILURES}"
    )
    expected = spark.createDataFrame(
        [
            (None, ["malformed_record"], [malformed]),
            (None, ["s_present"], ["rule 's_present' (expect_column_values_to_not_be_null column='s') failed: got null"]),
        ],
        f"s string, {FAILURES}",
    )
    assertDataFrameEqual(batch.transform(tag_rule_failures([present])), expected)


def test_split_sends_rows_with_failures_to_quarantine(spark):
    tagged = spark.createDataFrame(
        [(1, [], []), (2, ["cast:n"], ["Column 'n' expected int, got 'x'"]), (3, ["a", "b"], ["da", "db"])],
        f"id int, {FAILURES}",
    )
    valid, quarantined = split_valid_and_quarantined(tagged)
    assertDataFrameEqual(valid, spark.createDataFrame([(1,)], "id int"))
    expected_quarantine = spark.createDataFrame(
        [(2, ["cast:n"], ["Column 'n' expected int, got 'x'"]), (3, ["a", "b"], ["da", "db"])], f"id int, {FAILURES}"
    )
    assertDataFrameEqual(quarantined, expected_quarantine)


# --- Great Expectations validation ----------------------------------------------------------------

ROW_RULES = [
    rule("expect_column_values_to_not_be_null", name="s_present", column="s"),
    rule("expect_column_values_to_be_null", name="n_missing", column="n"),
    rule("expect_column_values_to_be_between", name="n_range", column="n", min_value=0, max_value=100, strict_min=True),
    rule("expect_column_values_to_be_in_set", name="s_known", column="s", value_set=["C000001", "c12"]),
    rule("expect_column_values_to_not_be_in_set", name="s_not_blank", column="s", value_set=[""]),
    rule("expect_column_values_to_match_regex", name="s_format", policy="warn", column="s", regex="^C[0-9]{6}$"),
    rule("expect_column_values_to_not_match_regex", name="s_upper", column="s", regex="[a-z]"),
    rule("expect_column_value_lengths_to_be_between", name="s_length", column="s", min_value=1, max_value=3),
    # The same expectation as s_present under another name: a GX suite would keep only one of them.
    rule("expect_column_values_to_not_be_null", name="s_present_again", column="s"),
]
TABLE_RULES = [
    rule("expect_table_row_count_to_be_between", name="not_empty", policy="fail", min_value=1),
    rule("expect_table_row_count_to_be_between", name="big_batch", policy="warn", min_value=100),
    rule("expect_column_values_to_be_unique", name="s_unique", policy="drop", column="s"),
    rule("expect_column_mean_to_be_between", name="n_mean", column="n", min_value=0, max_value=50),
]
ALL_RULES = ROW_RULES + TABLE_RULES


@pytest.fixture(scope="module")
def report(frame):
    return validate_with_gx(frame, ALL_RULES, suite_name="test_suite")


def test_gx_unexpected_counts_equal_the_rows_row_condition_rejects(frame, report):
    rejected = frame.select(*[F.count_if(~row_condition(r)).alias(r.name) for r in ROW_RULES]).first().asDict()
    assert {r.name: report.results[r.name].unexpected_count for r in ROW_RULES} == rejected
    assert {report.results[r.name].element_count for r in ROW_RULES} == {len(ROWS)}


def test_report_has_a_result_per_rule_in_rule_order(report):
    assert list(report.results) == [r.name for r in ALL_RULES]
    assert not report.success


def test_table_level_results_carry_the_observed_value(report):
    results = {name: report.results[name] for name in ("not_empty", "big_batch", "n_mean")}
    observed = {name: (result.success, result.observed_value, result.policy) for name, result in results.items()}
    assert observed == {
        "not_empty": (True, 6, "fail"),
        "big_batch": (False, 6, "warn"),
        "n_mean": (True, pytest.approx(131.5 / 5), "drop"),
    }


def test_policies_on_a_gx_report(report):
    outcome = enforce_table_policies(report, ALL_RULES)
    assert outcome.quarantine_batch == {
        "s_unique": "rule 's_unique' (expect_column_values_to_be_unique column='s') failed: 2 of 6 rows unexpected"
    }
    assert outcome.warnings == (
        "rule 's_format' (expect_column_values_to_match_regex column='s', regex='^C[0-9]{6}$') failed: "
        "2 of 6 rows unexpected",
        "rule 'big_batch' (expect_table_row_count_to_be_between min_value=100) failed: observed 6 rows",
    )


def test_an_empty_batch_fails_the_job_naming_the_rule_and_what_was_observed(spark):
    empty = spark.createDataFrame([], "id int")
    with pytest.raises(ExpectationFailedError) as error:
        enforce_table_policies(validate_with_gx(empty, TABLE_RULES[:1], suite_name="empty"), TABLE_RULES[:1])
    assert str(error.value) == (
        "suite 'empty': rule 'not_empty' (expect_table_row_count_to_be_between min_value=1) failed: observed 0 rows"
    )


def test_a_rule_gx_cannot_evaluate_is_an_error(frame):
    ghost = rule("expect_column_values_to_not_be_null", name="ghost", column="nope")
    with pytest.raises(ValueError, match="rule 'ghost' .* could not be evaluated: .*nope"):
        validate_with_gx(frame, [ghost], suite_name="broken")


def test_duplicate_rule_names_are_refused(frame):
    with pytest.raises(ValueError, match=r"duplicate rule names: \['s_present'\]"):
        validate_with_gx(frame, [ROW_RULES[0], ROW_RULES[0]], suite_name="dupes")


# --- the counted fast path -------------------------------------------------------------------------

# Rules whose results turn on `mostly` (0.6 of n's values are in range; 5 of 6 s values are present)
# and on exact and strict row-count bounds.
COUNTED_RULES = [
    rule("expect_column_values_to_be_between", name="n_mostly_met", column="n", min_value=0, max_value=100, mostly=0.6),
    rule("expect_column_values_to_be_between", name="n_mostly_missed", column="n", min_value=0, max_value=100, mostly=0.61),
    rule("expect_column_values_to_not_be_null", name="s_mostly_present", column="s", mostly=0.8),
    rule("expect_column_values_to_be_null", name="n_mostly_missing", column="n", mostly=0.2),
    rule("expect_table_row_count_to_equal", name="six_rows", value=6),
    rule("expect_table_row_count_to_be_between", name="over_six", min_value=6, strict_min=True),
    rule("expect_table_row_count_to_be_between", name="at_most_six", max_value=6),
]
# A conditional expectation: Great Expectations judges it, whatever its type.
CONDITIONAL = rule("expect_column_values_to_be_between", name="n_small_after_two", policy="warn", column="n",
                   max_value=10, row_condition="id > 2", condition_parser="spark")


@pytest.mark.parametrize("rows", [ROWS, []], ids=["rows", "empty"])
def test_counted_results_are_the_ones_great_expectations_gives(spark, rows):
    frame = spark.createDataFrame(rows, "id int, s string, n double")
    rules = [*ALL_RULES, *COUNTED_RULES, CONDITIONAL]
    assert validate_rules(frame, rules, suite_name="s").results == validate_with_gx(frame, rules, suite_name="s").results


def test_rules_a_count_decides_run_without_great_expectations(frame, monkeypatch):
    def no_gx(*args, **kwargs):
        raise AssertionError("GX ran")

    monkeypatch.setattr("lakeforge.quality.expectations.validate_with_gx", no_gx)
    report = validate_rules(frame, ROW_RULES + COUNTED_RULES, suite_name="s")
    assert (report.results["n_mostly_met"].success, report.results["n_mostly_missed"].success) == (True, False)
    assert report.results["six_rows"] == RuleResult("drop", True, None, None, observed_value=6)
    with pytest.raises(AssertionError, match="GX ran"):
        validate_rules(frame, TABLE_RULES, suite_name="s")  # uniqueness and a mean are GX's to judge
    with pytest.raises(AssertionError, match="GX ran"):
        validate_rules(frame, [CONDITIONAL], suite_name="s")


def test_a_counted_rule_on_a_missing_column_names_the_rule_and_the_columns(frame):
    ghost = rule("expect_column_values_to_not_be_null", name="ghost", column="nope")
    with pytest.raises(ValueError, match=r"rule 'ghost' .* could not be evaluated: no column 'nope' among \['id', 's', 'n'\]"):
        validate_rules(frame, [ghost], suite_name="broken")


# --- policies on hand-made reports -----------------------------------------------------------------


def report_of(*results: tuple[ExpectationRule, RuleResult]) -> ValidationReport:
    return ValidationReport("suite", {r.name: result for r, result in results})


def counted(policy: str, unexpected: int) -> RuleResult:
    return RuleResult(policy, unexpected == 0, element_count=9, unexpected_count=unexpected, observed_value=None)


def test_drop_on_a_row_rule_is_left_to_row_tagging():
    c_present = rule("expect_column_values_to_not_be_null", name="c_present", column="c")
    outcome = enforce_table_policies(report_of((c_present, counted("drop", 2))), [c_present])
    assert (outcome.quarantine_batch, outcome.warnings) == ({}, ())


def test_fail_on_a_row_rule_stops_the_job_with_its_counts():
    c_present = rule("expect_column_values_to_not_be_null", name="c_present", policy="fail", column="c")
    with pytest.raises(ExpectationFailedError, match=r"rule 'c_present' .* failed: 2 of 9 rows unexpected"):
        enforce_table_policies(report_of((c_present, counted("fail", 2))), [c_present])


def test_rules_that_passed_raise_and_report_nothing():
    c_present = rule("expect_column_values_to_not_be_null", name="c_present", policy="fail", column="c")
    outcome = enforce_table_policies(report_of((c_present, counted("fail", 0))), [c_present])
    assert (outcome.quarantine_batch, outcome.warnings) == ({}, ())


def test_a_batch_dropped_by_a_table_rule_is_tagged_on_every_row(spark):
    c_unique = rule("expect_column_values_to_be_unique", name="c_unique", column="c")
    outcome = enforce_table_policies(report_of((c_unique, counted("drop", 2))), [c_unique])
    batch = spark.createDataFrame([("x", ["cast:n"], ["earlier"]), ("x", [], [])], f"c string, {FAILURES}")
    message = "rule 'c_unique' (expect_column_values_to_be_unique column='c') failed: 2 of 9 rows unexpected"
    expected = spark.createDataFrame(
        [("x", ["cast:n", "c_unique"], ["earlier", message]), ("x", ["c_unique"], [message])], f"c string, {FAILURES}"
    )
    assertDataFrameEqual(batch.transform(tag_batch_failures(outcome)), expected)
