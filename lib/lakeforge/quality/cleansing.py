"""Bronze -> silver cleansing: raw values trimmed, nulled, cased and typed; one row per key."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from lakeforge.config.models import ColumnRule
from lakeforge.quality.failures import MALFORMED_RECORD, RowFailure, is_malformed, quote_value, record_failures

METADATA_PREFIX = "_"  # _run_id, _ingested_at, _source_file, _corrupt_record, _raw...: passed through
CORRUPT_RECORD = "_corrupt_record"  # set by Spark's PERMISSIVE mode on rows it could not parse
INGESTED_AT = "_ingested_at"


STAGED_PREFIX = "__cleanse_"  # working columns of cleanse_columns, never in its output


def cleanse_columns(columns: Mapping[str, ColumnRule]) -> Callable[[DataFrame], DataFrame]:
    """The silver projection: each configured column cleaned and typed, then the "_" metadata columns.

    A value that is present after cleaning but does not parse as rule.type becomes null (then is
    imputed, if configured) and the row gets "cast:<column>" in _failed_rules, with
    cast_failure_message in _failure_details; a row with _corrupt_record set gets "malformed_record".
    """

    def transform(df: DataFrame) -> DataFrame:
        parsed = {name: _parse_column(df, name, rule) for name, rule in columns.items()}
        # Each cleaned value and its typed form become columns first, so the failure checks and the
        # final projection refer to them instead of repeating (and re-running) their expressions.
        staged = df.withColumns(
            {
                **{_staged("value", name): column.value for name, column in parsed.items()},
                **{_staged("typed", name): column.typed for name, column in parsed.items()},
            }
        )
        staged = staged.transform(record_failures(_malformed_record_failures(staged)))
        failures = [
            RowFailure(
                f"cast:{name}",
                ~is_malformed(staged) & F.col(_staged("value", name)).isNotNull() & F.col(_staged("typed", name)).isNull(),
                cast_failure_message(name, rule.type, F.col(_staged("value", name))),
            )
            for name, rule in columns.items()
        ]
        staged = staged.transform(record_failures(failures))
        return staged.select(
            *[_impute(F.col(_staged("typed", name)), rule).alias(name) for name, rule in columns.items()],
            *[staged[name] for name in staged.columns if name.startswith(METADATA_PREFIX) and not name.startswith(STAGED_PREFIX)],
        )

    return transform


def _staged(kind: str, column: str) -> str:
    return f"{STAGED_PREFIX}{kind}_{column}"


def cast_failure_message(column: str, type_: str, value: Column) -> Column:
    """"Column 'tenure' expected int, got 'twelve'": the detail recorded with a cast:<column> failure."""
    return F.concat(F.lit(f"Column '{column}' expected {type_}, got "), quote_value(value))


def drop_duplicates_keep_latest(keys: list[str], latest_by: str | None = None) -> Callable[[DataFrame], DataFrame]:
    """One row per `keys`: the greatest `latest_by` (nulls lose), then the latest _ingested_at.

    Remaining ties go to the greater hash of the whole row, so every run keeps the same row.
    """

    def transform(df: DataFrame) -> DataFrame:
        if latest_by is not None and latest_by not in df.columns:
            raise ValueError(f"dedupe orders by latest_by column '{latest_by}', which is not in {df.columns}")
        order = [F.col(column).desc_nulls_last() for column in (latest_by, INGESTED_AT) if column in df.columns]
        window = Window.partitionBy(*keys).orderBy(*order, F.xxhash64(*df.columns).desc())
        return df.withColumn("_rank", F.row_number().over(window)).where(F.col("_rank") == 1).drop("_rank")

    return transform


class _Parsed(NamedTuple):
    value: Column  # the cleaned value the type is parsed from; null means there was no value
    typed: Column  # `value` as the rule's type; null where it does not parse


def _parse_column(df: DataFrame, name: str, rule: ColumnRule) -> _Parsed:
    raw_name = rule.source or name
    if raw_name not in df.columns:
        raise ValueError(f"silver column '{name}' reads raw column '{raw_name}', which is not in {df.columns}")
    raw = df[raw_name]
    if not isinstance(df.schema[raw_name].dataType, StringType):
        # Already typed (JDBC, Parquet): there is no text to clean.
        return _Parsed(raw, raw.try_cast(rule.type))
    if rule.type.strip().lower() == "string":
        text = _cased(_without_null_tokens(_strip(raw) if rule.trim else raw, rule), rule)
        return _Parsed(text, text)
    # Surrounding blanks never carry meaning in a number, date or flag, and a blank is no value.
    value = F.nullif(_cased(_without_null_tokens(_strip(raw), rule), rule), F.lit(""))
    return _Parsed(value, _parse_text(value, rule))


def _cased(value: Column, rule: ColumnRule) -> Column:
    return _CASES[rule.case](value) if rule.case else value


def _without_null_tokens(value: Column, rule: ColumnRule) -> Column:
    """Null where the value is one of rule.null_values, in any case. Only values no longer than the
    longest token are lowercased and compared (case mapping never shortens a text below that)."""
    null_tokens = [token.lower() for token in rule.null_values]
    if not null_tokens:
        return value
    longest = max(len(token) for token in null_tokens)
    is_token = (F.length(value) <= F.lit(longest)) & F.lower(value).isin(null_tokens)
    return F.when(is_token, F.lit(None)).otherwise(value)


def _parse_text(value: Column, rule: ColumnRule) -> Column:
    kind = rule.type.strip().lower()
    if kind == "boolean":
        lowered = F.lower(value)
        return (
            F.when(lowered.isin([v.lower() for v in rule.true_values]), F.lit(True))
            .when(lowered.isin([v.lower() for v in rule.false_values]), F.lit(False))
            .otherwise(F.lit(None).cast("boolean"))
        )
    if (kind == "date" or kind.startswith("timestamp")) and rule.formats:
        parsed = F.coalesce(*[F.try_to_timestamp(value, F.lit(pattern)) for pattern in rule.formats])
        return parsed.cast(rule.type)
    return value.try_cast(rule.type)


def _impute(typed: Column, rule: ColumnRule) -> Column:
    return typed if rule.impute is None else F.coalesce(typed, F.lit(rule.impute).cast(rule.type))


def _malformed_record_failures(df: DataFrame) -> list[RowFailure]:
    if CORRUPT_RECORD not in df.columns:
        return []
    detail = F.lit(f"Record could not be parsed; its raw text is in {CORRUPT_RECORD}")
    return [RowFailure(MALFORMED_RECORD, df[CORRUPT_RECORD].isNotNull(), detail)]


def _strip(value: Column) -> Column:
    # Spark's one-argument trim() strips only ' '; exported files also carry tabs and line ends.
    # trim with a character set is a native string op (a regex here cost ~5x the whole cleanse).
    return F.trim(value, F.lit(" \t\r\n\f\u000b"))


def _title_case(value: Column) -> Column:
    # initcap capitalises only after blanks; "month-to-month" should read "Month-To-Month". A blank
    # put after every hyphen and taken out again does it without a lambda (lambdas defeat codegen),
    # and with plain replace, not a regex (a quarter of the time).
    spaced = F.initcap(F.replace(value, F.lit("-"), F.lit("- ")))
    return F.replace(spaced, F.lit("- "), F.lit("-"))


_CASES: dict[str, Callable[[Column], Column]] = {"lower": F.lower, "upper": F.upper, "title": _title_case}
