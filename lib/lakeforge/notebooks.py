"""Run a Databricks source-format notebook locally, cell by cell, the way the workspace would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HEADER = "# Databricks notebook source"
CELL_BREAK = "# COMMAND ----------"


def notebook_cells(path: str | Path) -> list[str]:
    """The notebook's Python cells; %md cells (all `# MAGIC` lines) are documentation and skipped."""
    text = Path(path).read_text()
    if not text.startswith(HEADER):
        raise ValueError(f"{path} is not a Databricks source notebook: its first line must be '{HEADER}'")
    cells = []
    for cell in text[len(HEADER):].split(CELL_BREAK):
        lines = [line for line in cell.strip("\n").splitlines() if not line.startswith("# MAGIC")]
        code = "\n".join(lines).strip()
        if code:
            cells.append(code)
    return cells


def local_display(obj: Any, limit: int = 20) -> None:
    """Stand-in for Databricks' display(): show a DataFrame, print anything else."""
    if hasattr(obj, "show"):
        obj.show(limit, truncate=False)
    else:
        print(obj)


def run_notebook(path: str | Path, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    """Execute every cell in one namespace and return it; an error names the failing cell."""
    namespace = {"__name__": "__main__", "display": local_display, **(namespace or {})}
    for number, code in enumerate(notebook_cells(path), start=1):
        try:
            exec(compile(code, f"{path}:cell{number}", "exec"), namespace)  # noqa: S102 - running the user's notebook is the point
        except Exception as error:
            raise RuntimeError(f"{path}: cell {number} failed: {type(error).__name__}: {error}") from error
    return namespace


def cmd_notebook(args) -> int:
    run_notebook(args.path)
    return 0


def register(commands) -> None:
    """`lakeforge notebook PATH`."""
    notebook = commands.add_parser("notebook", help="run a Databricks source-format notebook locally, top to bottom")
    notebook.add_argument("path")
    notebook.set_defaults(handler=cmd_notebook)
