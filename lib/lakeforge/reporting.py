"""Plain-text summaries printed at the end of a run (audit, tables)."""

from __future__ import annotations

from collections.abc import Sequence

from lakeforge.tables.audit import Run


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(value) for value in row] for row in rows]
    widths = [max([len(header), *(len(row[i]) for row in cells)]) for i, header in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(value.ljust(width) for value, width in zip(values, widths)).rstrip()

    return "\n".join([line(headers), line(["-" * width for width in widths]), *(line(row) for row in cells)])


def print_run(run: Run) -> None:
    print(f"\nrun {run.run_id} ({run.job})")
    headers = ["source", "layer", "read", "written", "quarantined", "deduplicated", "inserted", "updated", "balanced"]
    rows = [
        [c.source, c.layer, c.read, c.written, c.quarantined, c.deduplicated, c.inserted, c.updated, "yes" if c.balanced else "NO"]
        for c in run.layers
    ]
    print(format_table(headers, rows))


def print_audit_rows(rows: list[dict]) -> None:
    headers = ["run_id", "source", "layer", "rows_read", "rows_written", "rows_quarantined", "rows_deduplicated", "status"]
    print(format_table(headers, [[row[h] for h in headers] for row in rows]))


def print_tables(tables: list[dict]) -> None:
    print()
    print(format_table(["layer", "table", "version", "rows"], [[t["layer"], t["table"], t["version"], t["rows"]] for t in tables]))
