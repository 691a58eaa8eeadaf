"""`lakeforge workflow run`: real spark-submit tasks in dependency order, retries, skipped dependents,
and every attempt in the audit table."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from lakeforge.config import load_config
from lakeforge.config.loader import ConfigError
from lakeforge.tables.audit import recent_runs
from lakeforge.tables.layout import Lakehouse
from lakeforge.workflows.commands import run_now
from lakeforge.workflows.config import WorkflowConfig
from lakeforge.workflows.schedule import next_run

ROOT = Path(__file__).resolve().parents[2]

# A job that appends its name to a trace file, and fails while it has run fewer than `--fail-times` times.
JOB = '''
import argparse, pathlib, sys
parser = argparse.ArgumentParser()
parser.add_argument("--name"); parser.add_argument("--trace"); parser.add_argument("--fail-times", type=int, default=0)
args = parser.parse_args()
trace = pathlib.Path(args.trace)
with trace.open("a") as handle:
    handle.write(args.name + "\\n")
runs = trace.read_text().split().count(args.name)
sys.exit(f"{args.name}: failing on purpose (run {runs})" if runs <= args.fail_times else 0)
'''


def task(job: Path, trace: Path, name: str, fail_times: int = 0, depends_on=(), retries: int | None = None) -> dict:
    spec = {"job": str(job), "args": ["--name", name, "--trace", str(trace), "--fail-times", str(fail_times)], "depends_on": list(depends_on)}
    return spec if retries is None else {**spec, "retries": retries}


def write_workflow(folder: Path, tasks: dict) -> Path:
    (folder / "env").mkdir(parents=True)
    (folder / "env/local.yml").write_text(yaml.safe_dump({"platform": {"spark": {"master": "local[1]"},
                                                                       "storage": {"root": str(folder / "lake"), "landing": str(folder / "in")}}}))
    workflow = {"name": "nightly", "schedule": "30 1 * * *", "defaults": {"retries": 1, "retry_delay_seconds": 0, "timeout_minutes": 5},
                "tasks": tasks}
    path = folder / "nightly.yml"
    path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def workflow_run(tmp_path_factory, spark):
    folder = tmp_path_factory.mktemp("workflow")
    job, trace = folder / "job.py", folder / "trace.txt"
    job.write_text(JOB)
    path = write_workflow(folder, {
        "flaky": task(job, trace, "flaky", fail_times=1),
        "report": task(job, trace, "report", depends_on=["flaky"]),
        "broken": task(job, trace, "broken", fail_times=99),
        "publish": task(job, trace, "publish", depends_on=["broken", "report"]),
    })
    workflow = load_config(path, WorkflowConfig, env="local")
    lines: list[str] = []
    succeeded = run_now(workflow, print_line=lines.append)
    rows = recent_runs(spark, Lakehouse(workflow.platform.storage.root), limit=1)
    return {"succeeded": succeeded, "trace": trace.read_text().split(), "rows": rows, "lines": lines}


def test_tasks_run_after_their_dependencies_and_a_failing_task_is_retried(workflow_run):
    trace = workflow_run["trace"]
    assert sorted(trace) == ["broken", "broken", "flaky", "flaky", "report"]
    assert [name for name in trace if name != "broken"] == ["flaky", "flaky", "report"]  # report after flaky's retry


def test_dependents_of_a_task_that_keeps_failing_do_not_run(workflow_run):
    assert "publish" not in workflow_run["trace"] and workflow_run["succeeded"] is False


def test_every_attempt_is_in_the_audit_table(workflow_run):
    rows = {(row["source"], row["layer"]): row for row in workflow_run["rows"]}
    assert {row["job"] for row in workflow_run["rows"]} == {"workflow:nightly"}
    assert len({row["run_id"] for row in workflow_run["rows"]}) == 1
    assert {key: row["status"] for key, row in rows.items()} == {
        ("flaky", "attempt 1"): "failed", ("flaky", "attempt 2"): "succeeded",
        ("report", "attempt 1"): "succeeded",
        ("broken", "attempt 1"): "failed", ("broken", "attempt 2"): "failed",
        ("publish", "attempt 0"): "skipped",
    }
    assert "failing on purpose (run 2)" in rows[("broken", "attempt 2")]["error"]
    assert rows[("publish", "attempt 0")]["error"] == "not run: broken did not succeed"


def test_a_workflow_with_a_cycle_or_a_bad_schedule_is_rejected(tmp_path):
    job = tmp_path / "job.py"
    cyclic = write_workflow(tmp_path / "a", {"one": {"job": str(job), "depends_on": ["two"]}, "two": {"job": str(job), "depends_on": ["one"]}})
    with pytest.raises(ConfigError, match="cycle"):
        load_config(cyclic, WorkflowConfig, env="local")
    path = write_workflow(tmp_path / "b", {"one": {"job": str(job)}})
    path.write_text(path.read_text().replace("30 1 * * *", "every day"))
    with pytest.raises(ConfigError, match="'every day' is not a cron expression"):
        load_config(path, WorkflowConfig, env="local")


def test_the_default_workflow_runs_ingest_then_training_then_the_validation_gate_daily():
    workflow = load_config(ROOT / "conf/workflows/daily.yml", WorkflowConfig, env="local")
    assert [task.job for task in workflow.ordered_tasks()] == ["jobs/ingest.py", "jobs/train_churn.py", "jobs/deploy_model.py"]
    assert workflow.schedule == "0 2 * * *"
    assert all((ROOT / task.job).is_file() for task in workflow.ordered_tasks())


def test_the_schedule_fires_at_the_next_cron_time_in_utc():
    workflow = load_config(ROOT / "conf/workflows/daily.yml", WorkflowConfig, env="local")
    assert next_run(workflow, datetime(2026, 3, 1, 1, 59)) == datetime(2026, 3, 1, 2, 0)
    assert next_run(workflow, datetime(2026, 3, 1, 2, 0)) == datetime(2026, 3, 2, 2, 0)  # strictly after
    assert next_run(workflow, datetime(2026, 12, 31, 23, 0)) == datetime(2027, 1, 1, 2, 0)
