"""Execute one workflow task: spark-submit its job, locally or on the workflow's cluster."""

from __future__ import annotations

from pathlib import Path

from lakeforge.workflows.config import ResolvedTask, WorkflowConfig
from lakeforge.workflows.process import run_logged
from lakeforge.workflows.submit import submission


def task_executor(workflow: WorkflowConfig, log_dir: Path, cwd: str | None = None):
    """execute(task, attempt) for run_workflow; each attempt's output goes to <log_dir>/<task>-<attempt>.log."""

    def execute(task: ResolvedTask, attempt: int) -> None:
        target = workflow.cluster if task.runs_on == "cluster" else None
        with submission(task.job, task.args, target) as command:
            run_logged(command.argv, command.env, task.timeout_minutes * 60, log_dir / f"{task.name}-{attempt}.log", cwd=cwd)

    return execute
