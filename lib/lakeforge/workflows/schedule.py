"""Keep running workflows on their cron schedules on one machine (croniter computes the times)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from croniter import croniter

from lakeforge.tables.audit import utcnow
from lakeforge.workflows.config import WorkflowConfig


def next_run(workflow: WorkflowConfig, after: datetime) -> datetime:
    """The first time after `after` (UTC, naive) that the workflow's schedule fires."""
    if workflow.schedule is None:
        raise ValueError(f"workflow {workflow.name} has no schedule; run it with `lakeforge workflow run {workflow.name}`")
    return croniter(workflow.schedule, after).get_next(datetime)


def run_schedules(workflows: list[WorkflowConfig], run: Callable[[WorkflowConfig], None], stop: threading.Event,
                  report: Callable[[str], None] = print) -> None:
    """Run each workflow when its schedule fires, one at a time, until `stop` is set. A run that outlasts
    the next firing time is not caught up: the next run is the first firing after it ends."""
    due = {workflow.name: next_run(workflow, utcnow()) for workflow in workflows}
    by_name = {workflow.name: workflow for workflow in workflows}
    while not stop.is_set():
        name = min(due, key=due.get)
        report(f"next: {name} at {due[name]:%Y-%m-%d %H:%M} UTC")
        if stop.wait(max(0.0, (due[name] - utcnow()).total_seconds())):
            return
        run(by_name[name])
        due[name] = next_run(by_name[name], max(utcnow(), due[name]))
