"""The `lakeforge` command: generate demo data, run pipelines, inspect runs and tables."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

DEFAULT_CONF = "conf/customer360.yml"

# Modules that add their own subcommands with `register(commands)`, one per lifecycle area.
COMMAND_MODULES: tuple[str, ...] = ("lakeforge.training.commands", "lakeforge.streaming.commands", "lakeforge.images.commands")


def work_dir() -> Path:
    return Path(os.environ.get("LAKEFORGE_WORK", ".work"))


def session_for(config):
    from lakeforge.spark import build_spark

    return build_spark(config.platform.spark)


def load(args):
    from lakeforge.config import load_pipeline_config

    return load_pipeline_config(args.conf or DEFAULT_CONF, env=args.env)


def cmd_generate(args) -> int:
    from lakeforge.demo.generate import generate_demo

    if args.what == "images":
        from lakeforge.images.commands import cmd_generate_images

        return cmd_generate_images(args)
    config = load(args)
    manifest = generate_demo(Path(config.platform.storage.landing), work_dir() / "seed", customers=args.rows, seed=args.seed)
    print(json.dumps(manifest.to_dict(), indent=2))
    return 0


def cmd_ingest(args) -> int:
    from lakeforge.pipelines.runner import PipelineRunner
    from lakeforge.reporting import print_run

    if args.what == "images":
        from lakeforge.images.commands import cmd_ingest_images

        return cmd_ingest_images(args)
    if args.path or args.manifest:
        raise SystemExit("ingest: --path and --manifest are for `lakeforge ingest images`")
    config = load(args)
    run = PipelineRunner(session_for(config), config).execute(sources=args.source)
    print_run(run)
    return 0


def cmd_demo(args) -> int:
    from lakeforge.demo.run import run_demo
    from lakeforge.reporting import print_run, print_tables

    config = load(args)
    spark = session_for(config)
    run, tables = run_demo(spark, config, work_dir() / "seed", customers=args.rows, seed=args.seed)
    print_run(run)
    print_tables(tables)
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


def cmd_notebook(args) -> int:
    from lakeforge.notebooks import run_notebook

    run_notebook(args.path)
    return 0


def add_common(parser: argparse.ArgumentParser, default_conf: str | None = DEFAULT_CONF) -> None:
    """--conf and --env, shared by every subcommand that loads a config (areas pass their own default;
    None: the command picks it)."""
    parser.add_argument("--conf", default=default_conf, help=f"config YAML (default {default_conf or 'per kind'})")
    parser.add_argument("--env", default=None, help="environment overlay conf/env/<ENV>.yml (default $LAKEFORGE_ENV or local)")


def build_parser() -> argparse.ArgumentParser:
    from lakeforge.images.commands import add_image_arguments

    parser = argparse.ArgumentParser(prog="lakeforge", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write built-in demo data with known defects, or the image dataset")
    generate.add_argument("what", choices=["demo", "images"])
    generate.add_argument("--rows", type=int, default=2000, help="customers to generate")
    generate.add_argument("--seed", type=int, default=7)
    generate.set_defaults(handler=cmd_generate)

    ingest = commands.add_parser("ingest", help="run a pipeline: sources -> bronze -> silver -> gold (or: ingest images)")
    ingest.add_argument("what", nargs="?", choices=["images"], help="images: image files -> Delta image tables (conf/images.yml)")
    ingest.add_argument("--source", action="append", help="only this source (repeatable; skips gold)")
    add_image_arguments(ingest)
    ingest.set_defaults(handler=cmd_ingest)

    demo = commands.add_parser("demo", help="generate demo data if missing, serve the demo API, run the pipeline")
    demo.add_argument("--rows", type=int, default=2000)
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(handler=cmd_demo)

    runs = commands.add_parser("runs", help="recent runs from the audit table")
    runs.add_argument("--json", action="store_true")
    runs.add_argument("--limit", type=int, default=10)
    runs.set_defaults(handler=cmd_runs)

    tables = commands.add_parser("tables", help="tables with Delta version and row count")
    tables.add_argument("--json", action="store_true")
    tables.set_defaults(handler=cmd_tables)

    for sub in (demo, runs, tables):
        add_common(sub)
    for sub in (generate, ingest):  # the config's default depends on what is generated or ingested
        add_common(sub, default_conf=None)

    notebook = commands.add_parser("notebook", help="run a Databricks source-format notebook locally, top to bottom")
    notebook.add_argument("path")
    notebook.set_defaults(handler=cmd_notebook)

    for module in COMMAND_MODULES:
        importlib.import_module(module).register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
