"""`lakeforge monitor score|labels|run|report` and `lakeforge dashboard`."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from lakeforge.commands import add_common, load_args_config, session_for

DEFAULT_CONF = "conf/monitoring.yml"


def load(args):
    from lakeforge.monitoring.config import MonitoringConfig

    return load_args_config(args, MonitoringConfig, DEFAULT_CONF)


def cmd_score(args) -> int:
    from lakeforge.monitoring.paths import MonitorPaths
    from lakeforge.monitoring.scoring import read_rows, score_into_log, version_to_score
    from lakeforge.tracking import use_tracking_uri

    config = load(args)
    spark = session_for(config)
    use_tracking_uri(config.platform)
    version = version_to_score(config.model, args.version)
    frame = read_rows(spark, args.data, config.model, config.platform.storage.root)
    path = MonitorPaths.of(config).inferences
    score_into_log(frame, config.model, version, path)
    print(f"scored {frame.count()} rows of {args.data} with {config.model.registered_model} version {version} into {path}")
    return 0


def cmd_labels(args) -> int:
    from lakeforge.monitoring.paths import MonitorPaths
    from lakeforge.monitoring.scoring import label_rows, read_rows
    from lakeforge.tables.inference import append_labels

    config = load(args)
    spark = session_for(config)
    labels = label_rows(read_rows(spark, args.data, config.model, config.platform.storage.root), config.model)
    path = MonitorPaths.of(config).labels
    append_labels(labels, path)
    print(f"appended the {config.model.label!r} outcomes of {args.data} to {path}")
    return 0


def cmd_run(args) -> int:
    from lakeforge.monitoring.run import run_monitors

    config = load(args)
    now = datetime.fromisoformat(args.now) if args.now else None
    result = run_monitors(session_for(config), config, now=now, env=args.env)
    summary = {"rows": result.rows, "alerts": len(result.alerts), "posted": result.posted,
               "decision": None if result.decision is None else {"outcome": result.decision.outcome, "reasons": result.decision.reasons,
                                                                  "challenger_version": result.decision.challenger_version, "gate": result.decision.gate}}
    if args.json:
        print(json.dumps({**summary, "alert_messages": [a["message"] for a in result.alerts]}, indent=2, default=str))
    else:
        print(f"monitor rows written: {result.rows}; {len(result.alerts)} new alert(s), {result.posted} posted")
        for alert in result.alerts:
            print(f"  [{alert['severity']}] {alert['message']}")
        if result.decision is not None:
            print(f"retraining: {result.decision.outcome} {result.decision.challenger_version or ''} {result.decision.gate}")
    return 0


def cmd_report(args) -> int:
    from lakeforge.monitoring.report import write_and_log_report

    config = load(args)
    path = write_and_log_report(session_for(config), config, args.out)
    print(f"report: {path}")
    return 0


def cmd_dashboard(args) -> int:
    from lakeforge.monitoring.dashboard import serve

    config = load(args)
    serve(session_for(config), config)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    monitor = commands.add_parser("monitor", help="inference log, drift, quality and pipeline health monitors, alerts, reports")
    actions = monitor.add_subparsers(dest="action", required=True)

    score = actions.add_parser("score", help="score rows with the monitored model into the inference log")
    score.add_argument("--data", required=True, help="CSV / Parquet / Delta path of the rows to score")
    score.add_argument("--version", default=None, help="model version (default: the config's alias)")
    score.set_defaults(handler=cmd_score)

    labels = actions.add_parser("labels", help="append delayed outcomes (entity key + label) to the labels table")
    labels.add_argument("--data", required=True, help="CSV / Parquet / Delta path with the entity key and label columns")
    labels.set_defaults(handler=cmd_labels)

    run = actions.add_parser("run", help="compute the monitors, raise and post alerts, decide on retraining")
    run.add_argument("--now", default=None, help="ISO time the freshness checks measure against (default: now, UTC)")
    run.add_argument("--json", action="store_true")
    run.set_defaults(handler=cmd_run)

    report = actions.add_parser("report", help="write the HTML monitoring report and log it to MLflow")
    report.add_argument("--out", default=None, help="folder for report.html (default: a temporary folder; always logged to MLflow)")
    report.set_defaults(handler=cmd_report)

    dashboard = commands.add_parser("dashboard", help="serve the live dashboard: IoT windows and alerts, model quality and drift, freshness")
    dashboard.set_defaults(handler=cmd_dashboard)
    for parser in (score, labels, run, report, dashboard):
        add_common(parser, DEFAULT_CONF)
