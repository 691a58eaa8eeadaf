"""`lakeforge train churn|housing|images` and `lakeforge sample-data telco|housing`."""

from __future__ import annotations

import argparse

TASK_CONFIGS = {"churn": "conf/churn.yml", "housing": "conf/housing.yml", "images": "conf/images.yml"}


def cmd_train(args) -> int:
    if args.task == "images":
        from lakeforge.images.commands import cmd_train_images

        return cmd_train_images(args)
    from lakeforge.config import load_config
    from lakeforge.spark import build_spark
    from lakeforge.training.config import TrainingConfig
    from lakeforge.training.run import print_result, train_and_track

    config = load_config(args.config or TASK_CONFIGS[args.task], TrainingConfig, env=args.env).with_data(args.data, args.label)
    result, tracked = train_and_track(build_spark(config.platform.spark), config)
    print_result(result, tracked, args.json)
    return 0


def cmd_sample_data(args) -> int:
    from lakeforge.training.sample_data import SAMPLES, write_csv

    frame = SAMPLES[args.what](**({"rows": args.rows} if args.rows else {}), seed=args.seed)
    print(f"wrote {len(frame)} rows to {write_csv(frame, args.out)}")
    return 0


def add_train_arguments(train: argparse.ArgumentParser) -> None:
    train.add_argument("--config", "--conf", dest="config", default=None, help="training config YAML (default conf/<task>.yml)")
    train.add_argument("--env", default=None, help="environment overlay conf/env/<ENV>.yml (default $LAKEFORGE_ENV or local)")
    train.add_argument("--data", default=None, help="CSV / Parquet / Delta path instead of the config's data")
    train.add_argument("--label", default=None, help="label column of --data")
    train.add_argument("--json", action="store_true", help="print the metrics summary as JSON")
    train.add_argument("--weights", default=None, help="images: backbone weights to transfer from (a state_dict file)")


def job_main(task: str, argv: list[str] | None = None) -> int:
    """spark-submit entry point of jobs/train_<task>.py: the `train` command for one task."""
    parser = argparse.ArgumentParser(prog=f"train_{task}", description=f"train the {task} models ({TASK_CONFIGS[task]})")
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    args.task = task
    return cmd_train(args)


def register(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser("train", help="train, validate, report and register a churn, housing or image model")
    train.add_argument("task", choices=sorted(TASK_CONFIGS), help="churn: classification; housing: regression; images: transfer learning")
    add_train_arguments(train)
    train.set_defaults(handler=cmd_train)

    sample = commands.add_parser("sample-data", help="write a look-alike of the Telco churn or California housing CSV")
    sample.add_argument("what", choices=["telco", "housing"])
    sample.add_argument("--out", required=True, help="CSV file to write")
    sample.add_argument("--rows", type=int, default=None, help="rows (default: as many as the public file)")
    sample.add_argument("--seed", type=int, default=7)
    sample.set_defaults(handler=cmd_sample_data)
