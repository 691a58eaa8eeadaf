"""`lakeforge generate demo` and `lakeforge demo`: the built-in customer-360 data and the demo run end to end."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lakeforge.commands import add_common, kind_parser, load_args_config, session_for, work_dir

DEFAULT_CONF = "conf/customer360.yml"
RETAIL_CONF = "conf/examples/retail.yml"


def load(args):
    from lakeforge.config import PipelineConfig

    return load_args_config(args, PipelineConfig, DEFAULT_CONF)


def cmd_generate_demo(args) -> int:
    from lakeforge.demo.generate import generate_demo

    config = load(args)
    manifest = generate_demo(Path(config.platform.storage.landing), work_dir() / "seed", customers=args.rows, seed=args.seed)
    print(json.dumps(manifest.to_dict(), indent=2))
    return 0


def cmd_demo(args) -> int:
    if args.example == "retail":
        return cmd_demo_retail(args)
    from lakeforge.demo.run import run_demo
    from lakeforge.reporting import print_run, print_tables

    config = load(args)
    run, tables = run_demo(session_for(config), config, work_dir() / "seed", customers=args.rows, seed=args.seed)
    print_run(run)
    print_tables(tables)
    return 0


def cmd_demo_retail(args) -> int:
    from lakeforge.config import PipelineConfig
    from lakeforge.demo.retail.run import run_retail
    from lakeforge.reporting import print_run, print_tables
    from lakeforge.tables.catalog import list_tables
    from lakeforge.tables.layout import Lakehouse

    config = load_args_config(args, PipelineConfig, RETAIL_CONF)
    spark = session_for(config)
    print_run(run_retail(spark, config, work_dir() / "seed" / "retail", orders=args.rows, seed=args.seed))
    print_tables(list_tables(spark, Lakehouse(config.platform.storage.root)))
    return 0


def add_size_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=2000, help="customers to generate")
    parser.add_argument("--seed", type=int, default=7)


def register(commands: argparse._SubParsersAction) -> None:
    generate = kind_parser(commands, "generate", "demo", help="the four customer-360 sources with known defects",
                           verb_help="write built-in demo data with known defects (demo) or the image dataset (images)")
    add_size_arguments(generate)
    generate.set_defaults(handler=cmd_generate_demo)

    demo = commands.add_parser("demo", help="generate demo data if missing, serve the demo API, run the pipeline")
    add_size_arguments(demo)
    demo.add_argument("--example", choices=("customer360", "retail"), default="customer360",
                      help=f"customer360 ({DEFAULT_CONF}) or retail: orders files, products over JDBC, order events on Kafka ({RETAIL_CONF}); --rows counts its orders")
    demo.set_defaults(handler=cmd_demo)

    add_common(generate, DEFAULT_CONF)
    add_common(demo, None)  # the chosen example's config unless --config names one
