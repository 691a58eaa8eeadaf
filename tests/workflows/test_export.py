"""`lakeforge workflow export`: the Airflow DAG loads in Airflow's own DagBag with the workflow's tasks,
order, schedule and retries; the Databricks bundle's job round-trips through the Databricks SDK's job types."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from databricks.sdk.service.jobs import JobSettings

from lakeforge.workflows.commands import cmd_export
from lakeforge.workflows.databricks import quartz_cron

ROOT = Path(__file__).resolve().parents[2]

# What conf/workflows/daily.yml says, written out by hand.
TASKS = ["ingest", "train_churn", "validate_and_deploy"]
UPSTREAM = {"ingest": [], "train_churn": ["ingest"], "validate_and_deploy": ["train_churn"]}
RETRIES = {"ingest": 1, "train_churn": 1, "validate_and_deploy": 0}

LOAD_DAG = '''
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags.get("lakeforge_daily")
print(json.dumps({
    "errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "schedule": None if dag is None else dag.timetable.expression,
    "tasks": None if dag is None else {t.task_id: {"upstream": sorted(t.upstream_task_ids), "retries": t.retries,
        "operator": type(t).__name__, "application": t.application, "args": list(t.application_args or []),
        "timeout_minutes": t.execution_timeout.total_seconds() / 60} for t in dag.tasks},
}))
'''


def export(to: str, out: Path) -> None:
    class Args:
        name, env, deploy_root = "daily", "local", "/opt/lakeforge"

    args = Args()
    args.to, args.out = to, str(out)
    assert cmd_export(args) == 0


@pytest.fixture(scope="module")
def airflow_python() -> str:
    result = subprocess.run(["bash", str(ROOT / "scripts/setup/airflow-venv.sh")], capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def test_the_airflow_dag_loads_in_airflow_with_the_workflows_tasks(tmp_path, airflow_python):
    export("airflow", tmp_path / "dags")
    env = {"AIRFLOW_HOME": str(tmp_path / "airflow"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([airflow_python, "-c", LOAD_DAG, str(tmp_path / "dags")], capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["errors"] == {}
    assert loaded["schedule"] == "0 2 * * *"
    tasks = loaded["tasks"]
    assert sorted(tasks) == sorted(TASKS)
    assert {name: task["upstream"] for name, task in tasks.items()} == UPSTREAM
    assert {name: task["retries"] for name, task in tasks.items()} == RETRIES
    assert {task["operator"] for task in tasks.values()} == {"SparkSubmitOperator"}
    assert tasks["ingest"]["application"] == "/opt/lakeforge/jobs/ingest.py"
    assert tasks["ingest"]["args"] == ["--config", "/opt/lakeforge/conf/customer360.yml", "--env", "cluster"]
    assert tasks["ingest"]["timeout_minutes"] == 120


def test_the_databricks_bundle_has_the_job_with_its_cluster_and_schedule(tmp_path):
    export("databricks", tmp_path)
    root = yaml.safe_load((tmp_path / "databricks.yml").read_text())
    assert root["bundle"]["name"] == "lakeforge-daily" and root["include"] == ["resources/*.yml"]
    assert set(root["targets"]) == {"dev", "prod"}
    job = yaml.safe_load((tmp_path / "resources/daily.job.yml").read_text())["resources"]["jobs"]["lakeforge_daily"]
    # The SDK's job types drop any key the Jobs API does not define: a round trip that changes nothing
    # means every key and nesting is one Databricks knows.
    assert JobSettings.from_dict(job).as_dict() == job
    assert job["schedule"] == {"quartz_cron_expression": "0 0 2 * * ?", "timezone_id": "UTC", "pause_status": "UNPAUSED"}
    assert job["job_clusters"][0]["new_cluster"]["spark_version"].startswith("17.3.")  # Spark 4.0, as pinned
    assert [task["task_key"] for task in job["tasks"]] == TASKS
    assert {task["task_key"]: [d["task_key"] for d in task.get("depends_on", [])] for task in job["tasks"]} == UPSTREAM
    assert {task["task_key"]: task["max_retries"] for task in job["tasks"]} == RETRIES
    assert job["tasks"][0]["spark_python_task"] == {
        "python_file": "../jobs/ingest.py", "parameters": ["--config", "${workspace.file_path}/conf/customer360.yml", "--env", "cluster"]}


@pytest.mark.parametrize(("cron", "quartz"), [
    ("0 2 * * *", "0 0 2 * * ?"),
    ("30 6 * * 1-5", "0 30 6 ? * 2,3,4,5,6"),  # Quartz counts weekdays 1-7 from Sunday, cron 0-6
    ("*/20 * 1 * *", "0 0,20,40 * 1 * ?"),
])
def test_cron_schedules_become_quartz_expressions(cron, quartz):
    assert quartz_cron(cron) == quartz


def test_a_schedule_quartz_cannot_express_is_refused():
    with pytest.raises(ValueError, match="both day of month and weekday"):
        quartz_cron("0 2 1 * 1")


def test_a_key_the_jobs_api_does_not_know_fails_the_round_trip():
    assert JobSettings.from_dict({"name": "x", "max_retires": 2}).as_dict() != {"name": "x", "max_retires": 2}
