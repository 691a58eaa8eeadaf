"""`lakeforge ingest|runs|tables`: run a batch pipeline, then read what it did from the audit table and the lakehouse."""

from __future__ import annotations

import argparse
import json

from lakeforge.commands import add_common, load_args_config, session_for

DEFAULT_CONF = "conf/customer360.yml"


def load(args):
    from lakeforge.config import PipelineConfig

    return load_args_config(args, PipelineConfig, DEFAULT_CONF)


def cmd_ingest(args) -> int:
    from lakeforge.pipelines.runner import PipelineRunner
    from lakeforge.reporting import print_run

    config = load(args)
    print_run(PipelineRunner(session_for(config), config).execute(sources=args.source))
    return 0


def cmd_runs(args) -> int:
    from lakeforge.reporting import print_audit_rows
    from lakeforge.tables.audit import recent_runs
    from lakeforge.tables.layout import Lakehouse

    config = load(args)
    rows = recent_runs(session_for(config), Lakehouse(config.platform.storage.root), limit=args.limit)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
    else:
        print_audit_rows(rows)
    return 0


def cmd_tables(args) -> int:
    from lakeforge.reporting import print_tables
    from lakeforge.tables.catalog import list_tables
    from lakeforge.tables.layout import Lakehouse

    config = load(args)
    tables = list_tables(session_for(config), Lakehouse(config.platform.storage.root))
    if args.json:
        print(json.dumps(tables, indent=2))
    else:
        print_tables(tables)
    return 0


def cmd_validate_config(args) -> int:
    from lakeforge.pipelines.config_check import load_checked, plan_problems

    config, problems = load_checked(args.file, env=args.env)
    if config is not None:
        problems += plan_problems(session_for(config), config)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{args.file}: {len(problems)} problem(s)")
        return 1
    print(f"{args.file}: valid ({len(config.sources)} sources, {len(config.silver)} silver and {len(config.gold)} gold tables)")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser("validate-config", help="check a pipeline file without running it (keys, sources, gold SQL and transforms, cycles)")
    check.add_argument("file", help="pipeline YAML")
    check.add_argument("--env", default=None, help="environment overlay conf/env/<ENV>.yml (default $LAKEFORGE_ENV or local)")
    check.set_defaults(handler=cmd_validate_config)

    ingest = commands.add_parser("ingest", help="run a pipeline: sources -> bronze -> silver -> gold (or a kind below)")
    ingest.add_argument("--source", action="append", help="only this source (repeatable; skips gold)")
    ingest.set_defaults(handler=cmd_ingest)

    runs = commands.add_parser("runs", help="recent runs from the audit table")
    runs.add_argument("--json", action="store_true")
    runs.add_argument("--limit", type=int, default=10)
    runs.set_defaults(handler=cmd_runs)

    tables = commands.add_parser("tables", help="tables with Delta version and row count")
    tables.add_argument("--json", action="store_true")
    tables.set_defaults(handler=cmd_tables)

    for sub in (ingest, runs, tables):
        add_common(sub, DEFAULT_CONF)
