"""A workflow as a Databricks Asset Bundle: databricks.yml and resources/<name>.job.yml with one job whose
tasks run the same jobs (spark_python_task) on a job cluster, with the wheel as their library."""

from __future__ import annotations

from croniter import croniter

from lakeforge.workflows.config import ResolvedTask, WorkflowConfig, deployed_args

# Databricks Runtime 17.3 LTS is Spark 4.0, the Spark Lakeforge is pinned to.
SPARK_VERSION = "17.3.x-scala2.13"
CLUSTER_KEY = "lakeforge"
WHEEL = "../dist/*.whl"  # relative to resources/, built by the bundle's artifact


def quartz_cron(expression: str) -> str:
    """A 5-field cron expression in Quartz's form (seconds first, `?` for the unused day field, weekdays
    1-7 from Sunday), from croniter's parse of each field."""
    minutes, hours, days, months, weekdays = croniter(expression).expanded[:5]

    def field(values, full: int, offset: int = 0) -> str:
        return "*" if values == ["*"] or len(values) >= full else ",".join(str(value + offset) for value in values)

    day_field, weekday_field = field(days, 31), field(weekdays, 7, offset=1)
    if weekday_field == "*":
        weekday_field = "?"
    elif day_field == "*":
        day_field = "?"
    else:
        raise ValueError(f"schedule {expression!r} restricts both day of month and weekday, which Quartz cannot express")
    return " ".join(["0", field(minutes, 60), field(hours, 24), day_field, field(months, 12), weekday_field])


def task_resource(task: ResolvedTask) -> dict:
    resource = {
        "task_key": task.name,
        "job_cluster_key": CLUSTER_KEY,
        "spark_python_task": {"python_file": f"../{task.job}", "parameters": [*deployed_args(task.args, "${workspace.file_path}"), "--env", "cluster"]},
        "libraries": [{"whl": WHEEL}],
        "max_retries": task.retries,
        "min_retry_interval_millis": int(task.retry_delay_seconds * 1000),
        "timeout_seconds": int(task.timeout_minutes * 60),
    }
    if task.depends_on:
        resource["depends_on"] = [{"task_key": name} for name in task.depends_on]
    return resource


def job_resource(workflow: WorkflowConfig, workers: int, node_type: str) -> dict:
    job = {
        "name": f"lakeforge-{workflow.name}",
        "description": workflow.description,
        "max_concurrent_runs": 1,
        "job_clusters": [{
            "job_cluster_key": CLUSTER_KEY,
            "new_cluster": {
                "spark_version": SPARK_VERSION, "node_type_id": node_type, "num_workers": workers,
                "spark_env_vars": {"LAKEFORGE_LAKEHOUSE_ROOT": "${var.lakehouse_root}", "LAKEFORGE_LANDING_ROOT": "${var.landing_root}"},
            },
        }],
        "tasks": [task_resource(task) for task in workflow.ordered_tasks()],
    }
    if workflow.schedule:
        job["schedule"] = {"quartz_cron_expression": quartz_cron(workflow.schedule), "timezone_id": "UTC", "pause_status": "UNPAUSED"}
    return {"resources": {"jobs": {f"lakeforge_{workflow.name}": job}}}


def bundle_root(workflow: WorkflowConfig) -> dict:
    """databricks.yml (at the project root, beside jobs/): the bundle, how its wheel is built, its variables, targets."""
    return {
        "bundle": {"name": f"lakeforge-{workflow.name}"},
        "include": ["resources/*.yml"],
        "artifacts": {"lakeforge": {"type": "whl", "path": ".", "build": "python -m pip wheel --no-deps -w dist ."}},
        "variables": {
            "lakehouse_root": {"description": "lakehouse root on shared storage (abfss://, s3://, dbfs:/)"},
            "landing_root": {"description": "where the sources' raw files land"},
        },
        "targets": {"dev": {"mode": "development", "default": True}, "prod": {"mode": "production"}},
    }


def bundle_files(workflow: WorkflowConfig, workers: int = 2, node_type: str = "i3.xlarge") -> dict[str, dict]:
    """{relative path: YAML content} of the bundle."""
    return {"databricks.yml": bundle_root(workflow), f"resources/{workflow.name}.job.yml": job_resource(workflow, workers, node_type)}
