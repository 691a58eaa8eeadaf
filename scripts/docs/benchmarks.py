"""The benchmarks page, written from bench/results/*.json: what each run measured, its goal, the
machine and the date, then every figure it recorded (a file's `previous` run is left out)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

HEADER_KEYS = ("benchmark", "goal", "goals", "machine", "measured_at", "previous")


def run_date(path: Path, result: dict[str, Any]) -> str:
    """When the run was measured: its own timestamp, else the commit that last wrote the file."""
    if result.get("measured_at"):
        return str(result["measured_at"])
    committed = subprocess.run(["git", "log", "-1", "--format=%cI", "--", path.name], cwd=path.parent,
                               capture_output=True, text=True).stdout.strip()
    return f"{committed} (commit date)" if committed else "not committed yet"


def cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return str(text).replace("|", "/")


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in flatten(item, f"{prefix}{key}.")]
    return [(prefix.rstrip("."), value)]


def table(value: Any) -> list[str]:
    """Rows of dicts as one table, anything else as key / value rows."""
    if isinstance(value, list) and value and all(isinstance(row, dict) for row in value):
        rows = [dict(flatten(row)) for row in value]
        columns = list(dict.fromkeys(key for row in rows for key in row))
        return [f"| {' | '.join(columns)} |", f"|{'---|' * len(columns)}",
                *(f"| {' | '.join(cell(row.get(column, '')) for column in columns)} |" for row in rows)]
    return ["| figure | value |", "|---|---|", *(f"| `{key}` | {cell(item)} |" for key, item in flatten(value))]


def result_section(path: Path) -> str:
    result = json.loads(path.read_text())
    goal = result.get("goal") or result.get("goals")
    machine = ", ".join(f"{key} {cell(value)}" for key, value in (result.get("machine") or {}).items())
    lines = [f"## {path.stem}", "", f"`bench/results/{path.name}`: {result.get('benchmark', '')}", "",
             f"- **Measured:** {run_date(path, result)}", f"- **Machine:** {machine or 'not recorded'}"]
    if goal is not None:
        lines.append(f"- **Goal:** {cell(goal) if not isinstance(goal, dict) else ', '.join(f'{k} {cell(v)}' for k, v in goal.items())}")
    lines.append("")
    scalars = {key: value for key, value in result.items() if key not in HEADER_KEYS and not isinstance(value, (dict, list))}
    if scalars:
        lines += [*table(scalars), ""]
    for key, value in result.items():
        if key not in HEADER_KEYS and isinstance(value, (dict, list)) and value:
            lines += [f"### {key}", "", *table(value), ""]
    return "\n".join(lines)


def benchmarks(results_dir: Path) -> str:
    files = sorted(results_dir.glob("*.json"))
    return "\n".join(result_section(path) for path in files) if files else "No benchmark results yet: run `make bench`."
