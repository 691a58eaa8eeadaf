"""Workflow task attempts as rows of the audit table, so `lakeforge runs` shows them beside the jobs' own."""

from __future__ import annotations

from pyspark.sql import SparkSession

from lakeforge.tables.audit import LayerCounts, Run, append_audit_rows, audit_rows
from lakeforge.tables.layout import Lakehouse
from lakeforge.workflows.runner import Attempt


def attempt_rows(attempt: Attempt) -> list[dict]:
    """One audit row: job `workflow:<name>`, source the task, layer `attempt <n>` (0: skipped)."""
    run = Run(job=f"workflow:{attempt.workflow}", run_id=attempt.run_id, started_at=attempt.started_at)
    counts = LayerCounts(source=attempt.task, layer=f"attempt {attempt.number}")
    return audit_rows(run, [counts], attempt.status, attempt.error, attempt.ended_at)


def audit_recorder(spark: SparkSession, lakehouse: Lakehouse):
    """record(attempt) for run_workflow: appends the attempt's row as soon as it ends."""
    return lambda attempt: append_audit_rows(spark, lakehouse, attempt_rows(attempt))
