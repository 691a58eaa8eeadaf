"""Watermarks as typed SQL literals for the JDBC dialects Lakeforge names a driver for.

Spark's JDBC reader takes SQL text, not bind values, so a watermark goes into the query as a
literal of its own type, parsed first so nothing but a well-formed value of that type reaches
the database.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from lakeforge.tables.audit import Watermark

NUMERIC_TYPES = ("tinyint", "smallint", "int", "bigint", "float", "double", "decimal")


def sql_literal(mark: Watermark, dialect: str) -> str:
    """`mark` as a literal for `dialect` (postgresql, mysql, sqlserver, oracle or ansi)."""
    kind = mark.type.split("(")[0]
    if kind in NUMERIC_TYPES:
        return number_literal(mark.value)
    if kind in ("timestamp", "timestamp_ntz"):
        return typed_literal("TIMESTAMP", "DATETIME2", parse(datetime.fromisoformat, mark).isoformat(sep=" "), dialect)
    if kind == "date":
        return typed_literal("DATE", "DATE", parse(date.fromisoformat, mark).isoformat(), dialect)
    if kind == "string":
        return string_literal(mark.value, dialect)
    raise ValueError(f"watermark {mark.value!r} has type {mark.type!r}; expected a number, string, date or timestamp column")


def number_literal(value: str) -> str:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"watermark {value!r} is not a number, as its column type says it is") from None
    if not number.is_finite():
        raise ValueError(f"watermark {value!r} is not a finite number")
    return str(number)


def parse(parser, mark: Watermark):
    try:
        return parser(mark.value)
    except ValueError:
        raise ValueError(f"watermark {mark.value!r} is not a valid {mark.type}") from None


def typed_literal(ansi_keyword: str, sqlserver_type: str, text: str, dialect: str) -> str:
    # SQL Server has no TIMESTAMP/DATE literal keyword (its TIMESTAMP is a row version type).
    if dialect == "sqlserver":
        return f"CAST('{text}' AS {sqlserver_type})"
    return f"{ansi_keyword} '{text}'"


def string_literal(value: str, dialect: str) -> str:
    escaped = value.replace("'", "''")
    if dialect == "mysql":
        # MySQL also reads backslash escapes in strings (unless NO_BACKSLASH_ESCAPES is set).
        escaped = escaped.replace("\\", "\\\\")
    if dialect == "sqlserver":
        return f"N'{escaped}'"  # Unicode, as nvarchar columns need
    return f"'{escaped}'"
