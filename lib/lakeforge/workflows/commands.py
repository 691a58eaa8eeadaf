"""`lakeforge workflow run|schedule|export|list`: the workflows of conf/workflows/*.yml."""

from __future__ import annotations

import argparse
from pathlib import Path

from lakeforge.commands import work_dir

WORKFLOWS_DIR = Path("conf/workflows")


def load_workflow(name_or_path: str, env: str | None):
    """A workflow by name (conf/workflows/<name>.yml) or by path."""
    from lakeforge.config import load_config
    from lakeforge.workflows.config import WorkflowConfig

    path = Path(name_or_path)
    if path.suffix not in (".yml", ".yaml"):
        path = WORKFLOWS_DIR / f"{name_or_path}.yml"
    return path, load_config(path, WorkflowConfig, env=env)


def run_now(workflow, print_line=print) -> bool:
    """Run the workflow once, recording every attempt in the audit table; True if every task succeeded."""
    from lakeforge.spark import build_spark
    from lakeforge.tables.audit import new_run_id
    from lakeforge.tables.layout import Lakehouse
    from lakeforge.workflows.records import audit_recorder
    from lakeforge.workflows.runner import SUCCEEDED, run_workflow
    from lakeforge.workflows.tasks import task_executor

    spark = build_spark(workflow.platform.spark)
    run_id = new_run_id()
    logs = work_dir() / "workflows" / workflow.name / run_id
    record = audit_recorder(spark, Lakehouse(workflow.platform.storage.root))

    def record_and_print(attempt) -> None:
        record(attempt)
        print_line(f"{attempt.task}: {attempt.status}" + (f" (attempt {attempt.number})" if attempt.number else "")
                   + (f": {attempt.error.splitlines()[0]}" if attempt.error else ""))

    outcomes = run_workflow(workflow, task_executor(workflow, logs), record_and_print, run_id=run_id)
    print_line(f"{workflow.name} run {run_id}: logs in {logs}; `lakeforge runs` shows every attempt")
    return all(outcome.status == SUCCEEDED for outcome in outcomes)


def cmd_run(args) -> int:
    _, workflow = load_workflow(args.name, args.env)
    return 0 if run_now(workflow) else 1


def cmd_schedule(args) -> int:
    from lakeforge.streaming.commands import stop_on_sigterm
    from lakeforge.workflows.schedule import run_schedules

    names = args.names or sorted(path.stem for path in WORKFLOWS_DIR.glob("*.yml"))
    workflows = [load_workflow(name, args.env)[1] for name in names]
    run_schedules([w for w in workflows if w.schedule], run_now, stop_on_sigterm())
    return 0


def cmd_export(args) -> int:
    import yaml

    from lakeforge.workflows.airflow import dag_id, dag_source
    from lakeforge.workflows.databricks import bundle_files

    source, workflow = load_workflow(args.name, args.env)
    out = Path(args.out)
    if args.to == "airflow":
        path = out / f"{dag_id(workflow)}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dag_source(workflow, str(source), deploy_root=args.deploy_root))
        print(path)
        return 0
    for relative, content in bundle_files(workflow).items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(content, sort_keys=False))
        print(path)
    return 0


def cmd_list(args) -> int:
    for path in sorted(WORKFLOWS_DIR.glob("*.yml")):
        _, workflow = load_workflow(str(path), args.env)
        tasks = " -> ".join(task.name for task in workflow.ordered_tasks())
        print(f"{workflow.name}: {workflow.schedule or 'on demand'} UTC; {tasks}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    workflow = commands.add_parser("workflow", help="run, schedule or export the workflows of conf/workflows/")
    actions = workflow.add_subparsers(dest="action", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="run a workflow now: tasks in dependency order, with retries, audited")
    run.add_argument("name", help="conf/workflows/<NAME>.yml, or a path")
    run.set_defaults(handler=cmd_run)
    schedule = actions.add_parser("schedule", help="keep running workflows on their cron schedules until SIGTERM")
    schedule.add_argument("names", nargs="*", help="workflows (default: every one with a schedule)")
    schedule.set_defaults(handler=cmd_schedule)
    export = actions.add_parser("export", help="write an Airflow DAG or a Databricks Asset Bundle of a workflow")
    export.add_argument("name")
    export.add_argument("--to", choices=["airflow", "databricks"], required=True)
    export.add_argument("--out", default=".", help="folder to write to (a bundle belongs at the project root)")
    export.add_argument("--deploy-root", default="/opt/lakeforge", help="airflow: where the project and dist/ are deployed")
    export.set_defaults(handler=cmd_export)
    listing = actions.add_parser("list", help="the workflows, their schedules and task order")
    listing.set_defaults(handler=cmd_list)
    for sub in (run, schedule, export, listing):
        sub.add_argument("--env", default=None, help="environment overlay conf/env/<ENV>.yml (default $LAKEFORGE_ENV or local)")
