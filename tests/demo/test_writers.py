"""The demo's fast writers produce exactly what the standard library's writers do."""

from __future__ import annotations

import csv
import io
import json

from lakeforge.demo.files import csv_lines
from lakeforge.demo.json_text import MISSING, json_objects

ROWS = [
    ["C000001", 'Robert "Bob" Smith', "Martin, Jr.", "  padded ", "", "José Müller"],
    ["c000002", "plain", "no,quotes", 'only"quote', "line\nbreak", "tab\there"],
    ["C000003", "a", "b", "c", "d", "e"],
    ["C000004", "too", "short"],
]


def test_csv_lines_match_csv_writer():
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(ROWS)
    assert "".join(f"{line}\n" for line in csv_lines(ROWS)) == buffer.getvalue()


def test_json_objects_match_json_dumps():
    fields = ("id", "text", "number", "flag", "maybe")
    rows = [
        ["E1", "plain", 3.5, True, None],
        ["E2", 'quote " and \\ slash / and ünïcödé', 12, False, "x"],
        ["E3", "new\nline", -1.0, True, MISSING],
        ["E4", "", 0, False, MISSING],
    ]
    expected = [json.dumps({f: v for f, v in zip(fields, row) if v is not MISSING}) for row in rows]
    assert json_objects(fields, rows) == expected
    assert json_objects(fields, [row[:4] + ["y"] for row in rows]) == [
        json.dumps(dict(zip(fields, row[:4] + ["y"]))) for row in rows
    ]
