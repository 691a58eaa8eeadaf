"""Cleansing on tiny in-memory frames: every expected frame is written out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pyspark.testing import assertDataFrameEqual

from lakeforge.config.models import ColumnRule
from lakeforge.quality.cleansing import cleanse_columns, drop_duplicates_keep_latest

FAILURES = "_failed_rules array<string>, _failure_details array<string>"
CUSTOMER_DATE_FORMATS = ["yyyy-MM-dd", "MM/dd/yyyy", "dd.MM.yyyy", "yyyy/MM/dd"]
CUSTOMER_TIMESTAMP_FORMATS = ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ssXXX"]


def cleanse_one(spark, rule: ColumnRule, values: list, raw_type: str = "string"):
    """Cleanse a single column `v` holding `values`, keyed by _row (a metadata column, passed through)."""
    bronze = spark.createDataFrame(list(enumerate(values)), f"_row int, v {raw_type}")
    return bronze.transform(cleanse_columns({"v": rule}))


def expected_one(spark, silver_type: str, rows: list[tuple]):
    """(value, failed rules, failure details) per input value, keyed like cleanse_one."""
    return spark.createDataFrame(
        [(value, row, rules, details) for row, (value, rules, details) in enumerate(rows)],
        f"v {silver_type}, _row int, {FAILURES}",
    )


def ok(value):
    return (value, [], [])


def cast_failure(column: str, type_: str, raw: str):
    return (None, [f"cast:{column}"], [f"Column '{column}' expected {type_}, got '{raw}'"])


def test_text_is_trimmed_nulled_and_cased_and_metadata_passes_through(spark):
    bronze = spark.createDataFrame(
        [
            ("  c000001 ", " JANE o'NEIL ", "\tJane@Example.COM \n", "month-to-month", "r1", "not in silver"),
            ("C000002", "mary-jane doe", " N/A ", "ONE YEAR", "r1", "x"),
            ("null", "", "NULL", "  two year", "r2", "x"),
        ],
        "customer_id string, name string, email string, contract string, _run_id string, extra string",
    )
    columns = {
        "customer_id": ColumnRule(case="upper"),
        "full_name": ColumnRule(source="name", case="title"),
        "email": ColumnRule(case="lower"),
        "contract": ColumnRule(case="title"),
        "contract_as_sent": ColumnRule(source="contract", trim=False, null_values=[]),
    }
    expected = spark.createDataFrame(
        [
            ("C000001", "Jane O'neil", "jane@example.com", "Month-To-Month", "month-to-month", "r1", [], []),
            ("C000002", "Mary-Jane Doe", None, "One Year", "ONE YEAR", "r1", [], []),
            (None, None, None, "Two Year", "  two year", "r2", [], []),
        ],
        "customer_id string, full_name string, email string, contract string, contract_as_sent string, "
        f"_run_id string, {FAILURES}",
    )
    assertDataFrameEqual(bronze.transform(cleanse_columns(columns)), expected)


def test_integers_parse_blanks_are_null_and_words_are_cast_failures(spark):
    actual = cleanse_one(spark, ColumnRule(type="int"), [" 12 ", "", "   ", "n/a", None, "twelve", "12.5", "-3"])
    blanks_and_tokens = [ok(None)] * 4
    expected = expected_one(
        spark,
        "int",
        [ok(12), *blanks_and_tokens, cast_failure("v", "int", "twelve"), cast_failure("v", "int", "12.5"), ok(-3)],
    )
    assertDataFrameEqual(actual, expected)


def test_blank_is_no_value_even_when_not_a_null_token(spark):
    actual = cleanse_one(spark, ColumnRule(type="bigint", null_values=[]), ["  ", "9000000000"])
    assertDataFrameEqual(actual, expected_one(spark, "bigint", [ok(None), ok(9_000_000_000)]))


def test_null_tokens_match_whole_values_in_any_case_however_long(spark):
    rule = ColumnRule(null_values=["n/a", "Not Available"])
    values = ["N/A", "not available", "NOT AVAILABLE ", "n/ab", "Not Availabl", "Not Available at all", "na"]
    expected = [ok(None), ok(None), ok(None), ok("n/ab"), ok("Not Availabl"), ok("Not Available at all"), ok("na")]
    assertDataFrameEqual(cleanse_one(spark, rule, values), expected_one(spark, "string", expected))


def test_values_of_other_types_are_stripped_before_null_tokens_even_without_trim(spark):
    actual = cleanse_one(spark, ColumnRule(type="int", trim=False), [" NA ", "\t7\n"])
    assertDataFrameEqual(actual, expected_one(spark, "int", [ok(None), ok(7)]))


def test_decimals_round_to_their_scale_and_reject_grouped_digits(spark):
    actual = cleanse_one(spark, ColumnRule(type="decimal(10,2)"), ["12.345", " 0.5", "1,234.50", "123456789012"])
    expected = expected_one(
        spark,
        "decimal(10,2)",
        [
            ok(Decimal("12.35")),
            ok(Decimal("0.50")),
            cast_failure("v", "decimal(10,2)", "1,234.50"),
            cast_failure("v", "decimal(10,2)", "123456789012"),
        ],
    )
    assertDataFrameEqual(actual, expected)


def test_doubles(spark):
    actual = cleanse_one(spark, ColumnRule(type="double"), ["29.85", "1e3", "$5"])
    expected = expected_one(spark, "double", [ok(29.85), ok(1000.0), cast_failure("v", "double", "$5")])
    assertDataFrameEqual(actual, expected)


def test_booleans_match_true_and_false_values_case_insensitively(spark):
    actual = cleanse_one(spark, ColumnRule(type="boolean"), ["Yes", "No", "1", "0", "True", " F ", "maybe", ""])
    parsed = [ok(True), ok(False), ok(True), ok(False), ok(True), ok(False)]
    expected = expected_one(spark, "boolean", [*parsed, cast_failure("v", "boolean", "maybe"), ok(None)])
    assertDataFrameEqual(actual, expected)


def test_booleans_with_configured_values(spark):
    rule = ColumnRule(type="boolean", true_values=["oui"], false_values=["non"])
    actual = cleanse_one(spark, rule, ["OUI", "non", "yes"])
    expected = expected_one(spark, "boolean", [ok(True), ok(False), cast_failure("v", "boolean", "yes")])
    assertDataFrameEqual(actual, expected)


def test_dates_try_each_format_in_order(spark):
    rule = ColumnRule(type="date", formats=CUSTOMER_DATE_FORMATS)
    one_day_four_ways = ["2024-01-15", "01/15/2024", "15.01.2024", "2024/01/15"]
    actual = cleanse_one(spark, rule, [*one_day_four_ways, "2024-02-30", "garbage", ""])
    day = date(2024, 1, 15)
    expected = expected_one(
        spark,
        "date",
        [
            ok(day),
            ok(day),
            ok(day),
            ok(day),
            cast_failure("v", "date", "2024-02-30"),
            cast_failure("v", "date", "garbage"),
            ok(None),
        ],
    )
    assertDataFrameEqual(actual, expected)


def test_dates_without_formats_use_spark_default_parsing(spark):
    actual = cleanse_one(spark, ColumnRule(type="date"), ["2024-01-15", "01/15/2024"])
    expected = expected_one(spark, "date", [ok(date(2024, 1, 15)), cast_failure("v", "date", "01/15/2024")])
    assertDataFrameEqual(actual, expected)


def test_timestamps_with_and_without_offset(spark):
    # The test session runs in UTC: an offset moves the instant, a local time is read as UTC.
    rule = ColumnRule(type="timestamp", formats=CUSTOMER_TIMESTAMP_FORMATS)
    raw = ["2024-01-15 10:00:00", "2024-01-15T10:00:00", "2024-01-15T10:00:00+02:00", "2024-01-15T10:00:00Z"]
    actual = cleanse_one(spark, rule, [*raw, "15/01/2024 10:00"])
    ten, eight = datetime(2024, 1, 15, 10, tzinfo=UTC), datetime(2024, 1, 15, 8, tzinfo=UTC)
    expected = expected_one(
        spark,
        "timestamp",
        [ok(ten), ok(ten), ok(eight), ok(ten), cast_failure("v", "timestamp", "15/01/2024 10:00")],
    )
    assertDataFrameEqual(actual, expected)


def test_timestamps_without_formats_use_spark_default_parsing(spark):
    actual = cleanse_one(spark, ColumnRule(type="timestamp"), ["2024-01-15T10:00:00+02:00", "yesterday"])
    expected = expected_one(
        spark, "timestamp", [ok(datetime(2024, 1, 15, 8, tzinfo=UTC)), cast_failure("v", "timestamp", "yesterday")]
    )
    assertDataFrameEqual(actual, expected)


def test_typed_input_is_cast_directly(spark):
    bronze = spark.createDataFrame(
        [
            (1, Decimal("12.34"), datetime(2024, 1, 15, 10, tzinfo=UTC), True),
            (2, Decimal("123456789012.00"), datetime(2024, 2, 1, 23, tzinfo=UTC), None),
        ],
        "invoice_id int, amount decimal(20,2), updated_at timestamp, paid boolean",
    )
    columns = {
        "invoice_id": ColumnRule(type="bigint"),
        "amount": ColumnRule(type="decimal(10,2)"),
        "billing_month": ColumnRule(type="date", source="updated_at", formats=["MM/dd/yyyy"]),
        "paid": ColumnRule(type="boolean", impute=False),
    }
    expected = spark.createDataFrame(
        [
            (1, Decimal("12.34"), date(2024, 1, 15), True, [], []),
            (
                2,
                None,
                date(2024, 2, 1),
                False,
                ["cast:amount"],
                ["Column 'amount' expected decimal(10,2), got '123456789012.00'"],
            ),
        ],
        f"invoice_id bigint, amount decimal(10,2), billing_month date, paid boolean, {FAILURES}",
    )
    assertDataFrameEqual(bronze.transform(cleanse_columns(columns)), expected)


def test_impute_fills_values_still_null_after_cleansing(spark):
    bronze = spark.createDataFrame(
        [("DSL", " 3 "), (" n/a ", None), (None, "lots")], "internet_service string, quantity string"
    )
    columns = {
        "internet_service": ColumnRule(case="title", impute="No"),
        "quantity": ColumnRule(type="int", impute=0),
    }
    expected = spark.createDataFrame(
        [
            ("Dsl", 3, [], []),
            ("No", 0, [], []),
            ("No", 0, ["cast:quantity"], ["Column 'quantity' expected int, got 'lots'"]),
        ],
        f"internet_service string, quantity int, {FAILURES}",
    )
    assertDataFrameEqual(bronze.transform(cleanse_columns(columns)), expected)


def test_a_malformed_record_is_only_malformed_not_a_cast_failure(spark):
    bronze = spark.createDataFrame(
        [("7", None), (None, '{"tenure": 7'), ("seven", '{"tenure": "seven",'), ("eight", None)],
        "tenure string, _corrupt_record string",
    )
    malformed = "Record could not be parsed; its raw text is in _corrupt_record"
    expected = spark.createDataFrame(
        [
            (7, None, [], []),
            (None, '{"tenure": 7', ["malformed_record"], [malformed]),
            (None, '{"tenure": "seven",', ["malformed_record"], [malformed]),
            (None, None, ["cast:tenure"], ["Column 'tenure' expected int, got 'eight'"]),
        ],
        f"tenure int, _corrupt_record string, {FAILURES}",
    )
    assertDataFrameEqual(bronze.transform(cleanse_columns({"tenure": ColumnRule(type="int")})), expected)


def test_failures_already_recorded_are_kept(spark):
    bronze = spark.createDataFrame(
        [("x", ["earlier"], ["an earlier failure"])], f"tenure string, {FAILURES}"
    )
    expected = spark.createDataFrame(
        [(None, ["earlier", "cast:tenure"], ["an earlier failure", "Column 'tenure' expected int, got 'x'"])],
        f"tenure int, {FAILURES}",
    )
    assertDataFrameEqual(bronze.transform(cleanse_columns({"tenure": ColumnRule(type="int")})), expected)


def test_a_missing_raw_column_is_named(spark):
    bronze = spark.createDataFrame([("1",)], "id string")
    with pytest.raises(ValueError, match="silver column 'tenure' reads raw column 'months'"):
        bronze.transform(cleanse_columns({"tenure": ColumnRule(type="int", source="months")}))


def test_dedupe_keeps_the_latest_row_per_key(spark):
    early, late = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)
    bronze = spark.createDataFrame(
        [
            ("C1", "old", early, early),
            ("C1", "new", late, early),
            ("C1", "undated", None, late),
            ("C2", "first load", late, early),
            ("C2", "reloaded", late, late),  # same updated_at: the later ingestion wins
            ("C3", "only", None, early),
        ],
        "customer_id string, note string, updated_at timestamp, _ingested_at timestamp",
    )
    expected = spark.createDataFrame(
        [("C1", "new", late, early), ("C2", "reloaded", late, late), ("C3", "only", None, early)],
        "customer_id string, note string, updated_at timestamp, _ingested_at timestamp",
    )
    assertDataFrameEqual(bronze.transform(drop_duplicates_keep_latest(["customer_id"], "updated_at")), expected)


def test_dedupe_without_latest_by_keeps_one_row_per_key_whatever_the_input_order(spark):
    rows = [("E1", "a", 1), ("E1", "b", 1), ("E1", "c", 2), ("E2", "a", 1)]
    forward = spark.createDataFrame(rows, "event_id string, device string, n int")
    backward = spark.createDataFrame(rows[::-1], "event_id string, device string, n int").repartition(2)
    kept = forward.transform(drop_duplicates_keep_latest(["event_id", "n"]))
    assert sorted((r.event_id, r.n) for r in kept.collect()) == [("E1", 1), ("E1", 2), ("E2", 1)]
    assertDataFrameEqual(backward.transform(drop_duplicates_keep_latest(["event_id", "n"])), kept)


def test_dedupe_names_a_missing_latest_by_column(spark):
    bronze = spark.createDataFrame([("C1",)], "customer_id string")
    with pytest.raises(ValueError, match="latest_by column 'updated_at'"):
        bronze.transform(drop_duplicates_keep_latest(["customer_id"], "updated_at"))
