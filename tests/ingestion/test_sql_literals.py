"""Watermarks become typed SQL literals per dialect; anything that is not a value of its type is refused."""

import pytest

from lakeforge.ingestion.sql_literals import sql_literal
from lakeforge.tables.audit import Watermark


@pytest.mark.parametrize(
    ("mark", "dialect", "expected"),
    [
        (Watermark("2026-01-01 12:16:40", "timestamp"), "postgresql", "TIMESTAMP '2026-01-01 12:16:40'"),
        (Watermark("2026-01-01 12:16:40.5", "timestamp"), "oracle", "TIMESTAMP '2026-01-01 12:16:40.500000'"),
        (Watermark("2026-01-01 12:16:40", "timestamp"), "sqlserver", "CAST('2026-01-01 12:16:40' AS DATETIME2)"),
        (Watermark("2026-01-31", "date"), "mysql", "DATE '2026-01-31'"),
        (Watermark("2026-01-31", "date"), "sqlserver", "CAST('2026-01-31' AS DATE)"),
        (Watermark("1500.00", "decimal(10,2)"), "postgresql", "1500.00"),
        (Watermark("-42", "bigint"), "oracle", "-42"),
        (Watermark("O'Brien", "string"), "postgresql", "'O''Brien'"),
        (Watermark("O'Brien", "string"), "sqlserver", "N'O''Brien'"),
        (Watermark("a\\'b", "string"), "mysql", "'a\\\\''b'"),
        (Watermark("a\\'b", "string"), "ansi", "'a\\''b'"),
    ],
)
def test_watermark_literals(mark, dialect, expected):
    assert sql_literal(mark, dialect) == expected


@pytest.mark.parametrize(
    ("mark", "message"),
    [
        (Watermark("1; DROP TABLE t", "bigint"), "watermark '1; DROP TABLE t' is not a number"),
        (Watermark("NaN", "double"), "watermark 'NaN' is not a finite number"),
        (Watermark("2026-01-01' OR '1'='1", "timestamp"), "is not a valid timestamp"),
        (Watermark("x", "binary"), "has type 'binary'; expected a number, string, date or timestamp column"),
    ],
)
def test_values_that_are_not_of_their_type_are_refused(mark, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        sql_literal(mark, "postgresql")
