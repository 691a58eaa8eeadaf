"""Workflow config (conf/workflows/*.yml): tasks, their order, schedule, retries, and where they run."""

from __future__ import annotations

import graphlib
from pathlib import Path
from typing import Literal

from croniter import croniter
from pydantic import Field, model_validator

from lakeforge.config.models import PlatformConfig, StrictModel


class ClusterTarget(StrictModel):
    """A Spark cluster that tasks with `runs_on: cluster` are submitted to, and what is shipped with them."""

    master: str  # spark://host:port, yarn, k8s://https://host:port
    secret_env: str | None = "LAKEFORGE_SPARK_SECRET"  # spark.authenticate's shared secret; None: no auth
    # The code, --py-files: the wheel's bytes under a .zip name (pyspark puts only .zip/.egg/.jar py-files
    # on the executors' sys.path); the wheel itself is what a cluster library installs.
    code: str = "dist/lakeforge.zip"
    env_archive: str | None = "dist/lakeforge-env.tar.gz"  # the Python dependencies, --archives; None: installed on the nodes
    executor_python: str | None = None  # executors' Python when not the packed env's
    jars_dir: str = ".work/jars"  # the pinned jars, --jars
    event_log_dir: str | None = None  # where the History Server reads
    executor_memory: str = "1g"
    conf: dict[str, str] = Field(default_factory=dict)


class TaskSettings(StrictModel):
    """How a task is run; the workflow's `defaults` apply where a task sets nothing."""

    retries: int | None = Field(default=None, ge=0)  # attempts after the first
    retry_delay_seconds: float | None = Field(default=None, ge=0)
    timeout_minutes: float | None = Field(default=None, gt=0)
    runs_on: Literal["local", "cluster"] | None = None


class TaskDefaults(TaskSettings):
    retries: int = Field(default=1, ge=0)
    retry_delay_seconds: float = Field(default=60, ge=0)
    timeout_minutes: float = Field(default=120, gt=0)
    runs_on: Literal["local", "cluster"] = "local"


class TaskSpec(TaskSettings):
    job: str  # a spark-submit entry point, e.g. jobs/ingest.py
    args: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)


def deployed_args(args: list[str], root: str) -> list[str]:
    """The arguments with project files (conf/churn.yml) under `root`, where a scheduler finds the
    deployed project; a scheduler's task does not start in the project folder."""
    return [f"{root}/{arg}" if not arg.startswith("-") and Path(arg).is_file() else arg for arg in args]


class ResolvedTask(StrictModel):
    """A task with its workflow's defaults filled in."""

    name: str
    job: str
    args: list[str]
    depends_on: list[str]
    retries: int
    retry_delay_seconds: float
    timeout_minutes: float
    runs_on: Literal["local", "cluster"]


class WorkflowConfig(StrictModel):
    name: str
    description: str = ""
    schedule: str | None = None  # cron (5 fields, minute first), evaluated in UTC; None: run on demand
    defaults: TaskDefaults = Field(default_factory=TaskDefaults)
    tasks: dict[str, TaskSpec]
    cluster: ClusterTarget | None = None
    platform: PlatformConfig  # the audit table's lakehouse

    @model_validator(mode="after")
    def _consistent(self) -> WorkflowConfig:
        if self.schedule is not None and not croniter.is_valid(self.schedule):
            raise ValueError(f"schedule {self.schedule!r} is not a cron expression (expected 5 fields, e.g. '0 2 * * *')")
        for name, task in self.tasks.items():
            unknown = sorted(set(task.depends_on) - set(self.tasks))
            if unknown:
                raise ValueError(f"task {name} depends on {unknown}, which are not tasks of {self.name} ({sorted(self.tasks)})")
        try:
            tuple(graphlib.TopologicalSorter({n: t.depends_on for n, t in self.tasks.items()}).static_order())
        except graphlib.CycleError as cycle:
            raise ValueError(f"tasks depend on each other in a cycle: {' -> '.join(cycle.args[1])}") from None
        on_cluster = [name for name in self.tasks if self.task(name).runs_on == "cluster"]
        if on_cluster and self.cluster is None:
            raise ValueError(f"tasks {on_cluster} run on a cluster, but the workflow has no `cluster:` section")
        return self

    def task(self, name: str) -> ResolvedTask:
        spec = self.tasks[name]
        settings = {key: getattr(spec, key) if getattr(spec, key) is not None else getattr(self.defaults, key)
                    for key in TaskSettings.model_fields}
        return ResolvedTask(name=name, job=spec.job, args=spec.args, depends_on=spec.depends_on, **settings)

    def ordered_tasks(self) -> list[ResolvedTask]:
        """Every task after the tasks it depends on."""
        order = graphlib.TopologicalSorter({n: t.depends_on for n, t in self.tasks.items()}).static_order()
        return [self.task(name) for name in order]
