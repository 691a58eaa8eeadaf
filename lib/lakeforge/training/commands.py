"""`lakeforge train churn|housing` and `lakeforge sample-data telco|housing` (`train images` is the images area's)."""

from __future__ import annotations

import argparse

from lakeforge.commands import add_common, kind_parser, load_args_config, session_for

TASK_CONFIGS = {"churn": "conf/churn.yml", "housing": "conf/housing.yml"}


def cmd_train(args) -> int:
    from lakeforge.training.config import TrainingConfig
    from lakeforge.training.run import print_result, train_and_track

    config = load_args_config(args, TrainingConfig, TASK_CONFIGS[args.kind]).with_data(args.data, args.label)
    result, tracked = train_and_track(session_for(config), config)
    print_result(result, tracked, args.json)
    return 0


def cmd_sample_data(args) -> int:
    from lakeforge.training.sample_data import SAMPLES, write_csv

    frame = SAMPLES[args.what](**({"rows": args.rows} if args.rows else {}), seed=args.seed)
    print(f"wrote {len(frame)} rows to {write_csv(frame, args.out)}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    for task, help in (("churn", "classification: the customer-360 churn label"), ("housing", "regression: California house values")):
        train = kind_parser(commands, "train", task, help=help, verb_help="train, validate, report and register a model")
        add_common(train, TASK_CONFIGS[task])
        train.add_argument("--data", default=None, help="CSV / Parquet / Delta path instead of the config's data")
        train.add_argument("--label", default=None, help="label column of --data")
        train.add_argument("--json", action="store_true", help="print the metrics summary as JSON")
        train.set_defaults(handler=cmd_train)

    sample = commands.add_parser("sample-data", help="write a look-alike of the Telco churn or California housing CSV")
    sample.add_argument("what", choices=["telco", "housing"])
    sample.add_argument("--out", required=True, help="CSV file to write")
    sample.add_argument("--rows", type=int, default=None, help="rows (default: as many as the public file)")
    sample.add_argument("--seed", type=int, default=7)
    sample.set_defaults(handler=cmd_sample_data)
