"""The `lakeforge` command: every lifecycle area registers its own subcommands; this module only lists them.

Errors a user can fix (a missing file, a config that does not validate, a column not in the data, an
unset credential variable) print one line and exit 2; `lakeforge --debug ...` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from lakeforge.errors import LakeforgeError

# Modules that add their own subcommands with `register(subparsers)`, one per lifecycle area. A verb
# several areas share (`generate`, `ingest`, `train`) takes kinds: see lakeforge.commands.kind_parser.
COMMAND_MODULES: tuple[str, ...] = (
    "lakeforge.demo.commands",
    "lakeforge.pipelines.commands",
    "lakeforge.notebooks",
    "lakeforge.training.commands",
    "lakeforge.streaming.commands",
    "lakeforge.images.commands",
    "lakeforge.recommendations.commands",
    "lakeforge.serving.commands",
    "lakeforge.deployment.commands",
    "lakeforge.monitoring.commands",
    "lakeforge.workflows.commands",
)

# FileNotFoundError: a path the user gave (data, weights, manifest) that is not there.
KNOWN_ERRORS = (LakeforgeError, FileNotFoundError)
USAGE_ERROR = 2  # argparse's exit status for bad arguments
DESCRIPTION = ("Lakeforge, lakehouse ML on Spark and Delta Lake: ingest, validate, train, serve and monitor. "
               "Errors you can fix print one line and exit 2; --debug shows the traceback.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lakeforge", description=DESCRIPTION)
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error instead of one line")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KNOWN_ERRORS as error:
        if args.debug:
            raise
        print(f"lakeforge {args.command}: {error} (--debug shows the traceback)", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
