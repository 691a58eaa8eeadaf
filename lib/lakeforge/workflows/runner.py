"""Run a workflow now: tasks in dependency order, each with its retries and timeout, every attempt recorded.

A task whose dependency did not succeed is skipped (recorded as such), so nothing downstream runs on
missing or stale inputs; tasks that do not depend on the failure still run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from tenacity import RetryError, Retrying, stop_after_attempt, wait_fixed

from lakeforge.tables.audit import describe, new_run_id, utcnow
from lakeforge.workflows.config import ResolvedTask, WorkflowConfig

SUCCEEDED, FAILED, SKIPPED = "succeeded", "failed", "skipped"


@dataclass(frozen=True)
class Attempt:
    """One try of one task (a skipped task has one attempt, numbered 0, that never ran)."""

    workflow: str
    run_id: str
    task: str
    number: int
    status: str
    started_at: datetime
    ended_at: datetime
    error: str | None = None


@dataclass
class TaskOutcome:
    task: str
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.attempts[-1].status


# execute(task, attempt number) runs the task once and raises if it failed; record(attempt) stores it.
Execute = Callable[[ResolvedTask, int], None]
Record = Callable[[Attempt], None]


def run_with_retries(workflow: str, run_id: str, task: ResolvedTask, execute: Execute, record: Record,
                     sleep: Callable[[float], None]) -> TaskOutcome:
    outcome = TaskOutcome(task.name)

    def attempt_once() -> None:
        number, started = len(outcome.attempts) + 1, utcnow()
        try:
            execute(task, number)
        except Exception as error:  # noqa: BLE001 - any failure of the task is recorded, then retried
            outcome.attempts.append(Attempt(workflow, run_id, task.name, number, FAILED, started, utcnow(), describe(error)))
            record(outcome.attempts[-1])
            raise
        outcome.attempts.append(Attempt(workflow, run_id, task.name, number, SUCCEEDED, started, utcnow()))
        record(outcome.attempts[-1])

    retrying = Retrying(stop=stop_after_attempt(task.retries + 1), wait=wait_fixed(task.retry_delay_seconds), sleep=sleep)
    try:
        retrying(attempt_once)
    except RetryError:
        pass  # every attempt is already recorded as failed
    return outcome


def run_workflow(workflow: WorkflowConfig, execute: Execute, record: Record,
                 sleep: Callable[[float], None] = time.sleep, run_id: str | None = None) -> list[TaskOutcome]:
    """Run every task once (with its retries) in dependency order; returns the outcomes in that order."""
    run_id = run_id or new_run_id()
    outcomes: dict[str, TaskOutcome] = {}
    for task in workflow.ordered_tasks():
        blocked = [name for name in task.depends_on if outcomes[name].status != SUCCEEDED]
        if blocked:
            now = utcnow()
            skipped = Attempt(workflow.name, run_id, task.name, 0, SKIPPED, now, now,
                              f"not run: {', '.join(blocked)} did not succeed")
            outcomes[task.name] = TaskOutcome(task.name, [skipped])
            record(skipped)
            continue
        outcomes[task.name] = run_with_retries(workflow.name, run_id, task, execute, record, sleep)
    return list(outcomes.values())
