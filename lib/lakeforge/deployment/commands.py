"""`lakeforge deploy run|rollback|log` and `lakeforge score churn`."""

from __future__ import annotations

import argparse
import json
import os

from lakeforge.archives import MODEL_URI_ENV
from lakeforge.commands import add_common, kind_parser, load_args_config, session_for

DEFAULT_CONF = "conf/deployment.yml"
REFUSED_OR_ROLLED_BACK = 1  # exit status a CI gate turns red on


def load(args):
    from lakeforge.deployment.config import DeploymentConfig

    return load_args_config(args, DeploymentConfig, DEFAULT_CONF)


def print_decisions(decisions, as_json: bool) -> None:
    rows = [decision if isinstance(decision, dict) else vars(decision) for decision in decisions]
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    for row in rows:
        when = f"{row['decided_at']:%Y-%m-%d %H:%M:%S} " if row.get("decided_at") else ""
        versions = f"challenger={row['challenger_version']} champion={row['champion_version']}"
        print(f"{when}{row['model']} {row['step']}: {row['outcome']} ({row['run_mode']}, {row['target']}, {versions})")
        for reason in row["reasons"]:
            print(f"    - {reason}")


def exit_status(decisions) -> int:
    return 0 if all(decision.passed for decision in decisions) else REFUSED_OR_ROLLED_BACK


def cmd_run(args) -> int:
    from lakeforge.deployment.pipeline import run_deployment, start

    config = load(args)
    run = start(session_for(config), config, args.model, target=args.target, run_mode=args.run_mode)
    decisions = run_deployment(run)
    print_decisions(decisions, args.json)
    return exit_status(decisions)


def cmd_rollback(args) -> int:
    from lakeforge.deployment.pipeline import roll_back, start

    config = load(args)
    run = start(session_for(config), config, args.model, target=args.target)
    decision = roll_back(run, [f"manual rollback: {args.reason}"], withdraw=False)  # no previous: refused, champion kept
    print_decisions([decision], args.json)
    return exit_status([decision])


def cmd_log(args) -> int:
    from lakeforge.deployment.log import DeploymentLog
    from lakeforge.tables.layout import Lakehouse

    config = load(args)
    log = DeploymentLog(session_for(config), Lakehouse(config.platform.storage.root).system(config.log_table))
    model = config.model(args.model).registered_model if args.model else None
    print_decisions(log.recent(model, limit=args.limit), args.json)
    return 0


def cmd_score(args) -> int:
    from lakeforge.deployment.scoring import score_batch

    config = load(args)
    result = score_batch(session_for(config), config, args.kind, args.model_uri)
    logged = f" (logged in {result.inference_log})" if result.inference_log else ""
    print(f"scored {result.rows} rows with {args.kind} version {result.model_version} into {result.table}{logged}")
    return 0


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """`deploy run`'s options; jobs/deploy_model.py parses the same."""
    add_common(parser, DEFAULT_CONF)
    parser.add_argument("--model", required=True, help="a model of the deployment config (e.g. churn)")
    parser.add_argument("--target", default=None, help="local | aws (default: the model's target in the config)")
    parser.add_argument("--run-mode", choices=["disabled", "dry_run", "enabled"], default=None, help="override the config's run_mode")
    parser.add_argument("--json", action="store_true", help="print the decisions as JSON")


def register(commands: argparse._SubParsersAction) -> None:
    deploy = commands.add_parser("deploy", help="validate, promote and deploy a model; roll back; read the deployment log")
    actions = deploy.add_subparsers(dest="action", metavar="ACTION", required=True)

    run = actions.add_parser("run", help="challenger vs champion gate -> promote -> deploy -> smoke test (rolls back on failure)")
    add_run_arguments(run)
    run.set_defaults(handler=cmd_run)

    rollback = actions.add_parser("rollback", help="champion back to the 'previous' version, redeployed and smoke-tested")
    add_common(rollback, DEFAULT_CONF)
    rollback.add_argument("--model", required=True)
    rollback.add_argument("--target", default=None, help="local | aws (default: the model's target in the config)")
    rollback.add_argument("--reason", default="requested by hand", help="why, for the deployment log")
    rollback.add_argument("--json", action="store_true")
    rollback.set_defaults(handler=cmd_rollback)

    log = actions.add_parser("log", help="recent deployment decisions with their reasons")
    add_common(log, DEFAULT_CONF)
    log.add_argument("--model", default=None, help="only this model of the config")
    log.add_argument("--limit", type=int, default=20)
    log.add_argument("--json", action="store_true")
    log.set_defaults(handler=cmd_log)

    score = kind_parser(commands, "score", "churn", help="batch-score the configured data with models:/<model>@champion (or --model-uri) into gold",
                        verb_help="batch scoring with a model's champion")
    add_common(score, DEFAULT_CONF)
    score.add_argument("--model-uri", default=os.environ.get(MODEL_URI_ENV) or None,
                       help=f"score with this S3 model archive (what the aws target deploys; default ${MODEL_URI_ENV}) instead of the champion")
    score.set_defaults(handler=cmd_score)
