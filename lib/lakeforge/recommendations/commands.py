"""`lakeforge generate interactions`, `ingest interactions`, `train recs`, `recs stream` and `report ab`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lakeforge.commands import add_common, kind_parser, load_args_config, session_for

DEFAULT_CONF = "conf/recommendations.yml"


def load(args):
    from lakeforge.recommendations.config import RecsConfig

    return load_args_config(args, RecsConfig, DEFAULT_CONF)


def data_folder(config, path: str | None) -> Path:
    return Path(path) if path else Path(config.platform.storage.landing) / "recommendations"


def cmd_generate(args) -> int:
    from lakeforge.recommendations.generate import generate_interactions

    config = load(args)
    updates = {name: getattr(args, name) for name in ("users", "items", "interactions", "seed") if getattr(args, name) is not None}
    folder = data_folder(config, args.out)
    print(json.dumps({"folder": str(folder), **generate_interactions(config.generator.model_copy(update=updates), folder)}))
    return 0


def cmd_ingest(args) -> int:
    from lakeforge.recommendations.load import load_folder

    config = load(args)
    run = load_folder(session_for(config), config, data_folder(config, args.path))
    print(json.dumps({"run_id": run.run_id, "layers": [vars(counts) for counts in run.layers]}, indent=2))
    return 0


def cmd_train(args) -> int:
    from lakeforge.recommendations.run import print_summary, train_and_register

    config = load(args)
    print_summary(*train_and_register(session_for(config), config, export=args.export))
    return 0


def cmd_stream(args) -> int:
    from lakeforge.recommendations.stream import run_interactions_stream
    from lakeforge.streaming.commands import stop_on_sigterm

    config = load(args)
    run_interactions_stream(session_for(config), config, stop=stop_on_sigterm(), seconds=args.seconds, available_now=args.available_now)
    return 0


def cmd_report_ab(args) -> int:
    from lakeforge.recommendations.ab_report import ab_report
    from lakeforge.recommendations.tables import RecsTables

    config = load(args)
    report = ab_report(session_for(config), RecsTables.of(config), args.confidence)
    if args.json:
        print(json.dumps([vars(variant) for variant in report], indent=2))
        return 0
    if not report:
        print("no feedback yet: POST /feedback records impressions and clicks with their variant")
    for v in report:
        interval = f"[{v.low:.4f}, {v.high:.4f}]" if v.low is not None else "(no interval)"
        ctr = f"{v.ctr:.4f}" if v.ctr is not None else "-"
        print(f"{v.variant:<11} impressions {v.impressions:>8}  clicks {v.clicks:>8}  CTR {ctr}  {args.confidence:.0%} CI {interval}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    generate = kind_parser(commands, "generate", "interactions", help="users with tastes, long-tail items: movies.csv, ratings.csv, events.csv")
    generate.add_argument("--out", default=None, help="folder (default <landing>/recommendations)")
    for name in ("users", "items", "interactions", "seed"):
        generate.add_argument(f"--{name}", type=int, default=None, help=f"generator.{name} instead of the config's")
    generate.set_defaults(handler=cmd_generate)

    ingest = kind_parser(commands, "ingest", "interactions", help="MovieLens-format files -> bronze/silver interactions and silver items")
    ingest.add_argument("--path", default=None, help="folder with ratings.csv / events.csv / movies.csv (default <landing>/recommendations)")
    ingest.set_defaults(handler=cmd_ingest)

    train = kind_parser(commands, "train", "recs", help="ALS: tune on a time split, evaluate beside popularity, register (alias challenger)")
    train.add_argument("--export", default=None, help="also write the serving artifact to this folder")
    train.set_defaults(handler=cmd_train)

    recs = commands.add_parser("recs", help="recommendations: the interactions stream job")
    actions = recs.add_subparsers(dest="action", required=True)
    stream = actions.add_parser("stream", help="interactions topic -> bronze/silver/gold Delta, exactly once")
    stream.add_argument("--seconds", type=float, default=None, help="stop after this long (default: until Ctrl-C / SIGTERM)")
    stream.add_argument("--available-now", action="store_true", help="process what the topic holds, then stop")
    stream.set_defaults(handler=cmd_stream)

    report = kind_parser(commands, "report", "ab", help="A/B test: click-through rate per variant with a confidence interval",
                         verb_help="reports over what landed in the lakehouse")
    report.add_argument("--confidence", type=float, default=0.95, help="of the Wilson interval (default 0.95)")
    report.add_argument("--json", action="store_true", help="print JSON instead of a table")
    report.set_defaults(handler=cmd_report_ab)

    for sub in (generate, ingest, train, stream, report):
        add_common(sub, DEFAULT_CONF)
